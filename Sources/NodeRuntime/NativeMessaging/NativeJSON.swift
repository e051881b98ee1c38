import Foundation

/// A JSON value, as carried by native messages (the requests' ids and payloads, the node's answers).
public enum NativeJSON: Hashable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([NativeJSON])
    /// An object.
    case object([String: NativeJSON])

    /// The deepest nesting of arrays and objects accepted when parsing.
    public static let maximumDepth = 64

    /// Parses a JSON document.
    /// - Throws: ``NodeRuntimeError/Code/invalidMessage`` for invalid UTF-8 or JSON, or nesting deeper
    ///   than ``maximumDepth``.
    public init(parsing bytes: [UInt8]) throws(NodeRuntimeError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw NodeRuntimeError(.invalidMessage, "the message is not valid UTF-8")
        }
        guard Self.nestingDepth(bytes) <= Self.maximumDepth else {
            throw NodeRuntimeError(.invalidMessage, "the JSON is nested deeper than \(Self.maximumDepth) levels")
        }
        do {
            self = try JSONDecoder().decode(NativeJSON.self, from: Data(bytes))
        } catch {
            throw NodeRuntimeError(.invalidMessage, "the message is not valid JSON: \(Self.summary(of: error))")
        }
    }

    /// The compact UTF-8 JSON text, keys sorted.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a NativeJSON cannot fail except for non-finite numbers, which parsing never produces;
        // they are written as null.
        return (try? Array(encoder.encode(self))) ?? Array("null".utf8)
    }

    /// The value of `key` when this is an object.
    public subscript(key: String) -> NativeJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The deepest nesting of `[` and `{` outside strings (a bound checked before decoding).
    static func nestingDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    private static func summary(of error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError as NSError?,
                let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
            {
                return detail
            }
            return context.debugDescription
        }
        return "\(error)"
    }
}

extension NativeJSON: Codable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([NativeJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: NativeJSON].self))
        }
    }

    /// Encodes the value as JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
