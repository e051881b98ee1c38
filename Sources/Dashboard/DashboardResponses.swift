import Foundation
import HTTPTypes
import Hummingbird

/// Building responses: JSON encoding, and the security headers every response carries.
enum DashboardResponses {
    /// The page's content security policy: nothing but this origin, no inline script or style, no framing.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!

    /// Adds the security headers to `headers` (never any `Access-Control-*` header).
    static func addSecurityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[Self.xFrameOptions] = "DENY"
        headers[Self.referrerPolicy] = "no-referrer"
        headers[Self.crossOriginResourcePolicy] = "same-origin"
        if headers[.cacheControl] == nil {
            headers[.cacheControl] = "no-store"
        }
    }

    /// The API's JSON encoder: sorted keys, ISO 8601 dates, non-finite numbers as strings.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        return encoder
    }

    /// `value` as a JSON response (the security headers are added by the guard middleware).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data: Data
        do {
            data = try Self.encoder().encode(value)
        } catch {
            // Our body types only hold strings, numbers and booleans: encoding cannot fail.
            preconditionFailure("dashboard JSON body failed to encode: \(error)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A static asset.
    static func asset(_ text: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
