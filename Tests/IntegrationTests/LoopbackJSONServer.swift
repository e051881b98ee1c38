import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 for one test: answers each request with `respond(method, path, body)`
/// (status and JSON text), closes the connection, and records `METHOD PATH` with the Authorization header.
///
/// `@unchecked Sendable`: the socket is only read by the accept thread; the log sits behind a lock.
final class LoopbackJSONServer: @unchecked Sendable {
    struct Seen: Sendable, Equatable {
        var request: String
        var authorization: String?
        var body: String
    }

    let port: Int
    let seen = LockedValue<[Seen]>([])
    private let listener: Int32
    private let respond: @Sendable (String, String, String) -> (Int, String)

    init(respond: @escaping @Sendable (_ method: String, _ path: String, _ body: String) -> (Int, String)) throws {
        self.respond = respond
        #if canImport(Glibc)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw IntegrationFailure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 8) == 0 else {
            close(listener)
            throw IntegrationFailure(description: "bind/listen on 127.0.0.1 failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    func stop() {
        shutdown(self.listener, Int32(SHUT_RDWR))
        close(self.listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(self.listener, nil, nil)
            if connection < 0 { return }
            self.handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            if let end = headerEnd, received.count >= end + contentLength { break }
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress!, $0.count, 0) }
            if count <= 0 { return }
            received += buffer[0..<count]
            if headerEnd == nil, let range = Data(received).range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = range.upperBound
                let head = String(decoding: received[0..<range.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength =
                        Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        let end = headerEnd ?? received.count
        let head = String(decoding: received[0..<max(end - 4, 0)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let requestLine = lines.first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        let method = parts.count > 0 ? String(parts[0]) : ""
        let path = parts.count > 1 ? String(parts[1]) : ""
        let authorization = lines.first { $0.lowercased().hasPrefix("authorization:") }
            .map { $0.dropFirst("authorization:".count).trimmingCharacters(in: .whitespaces) }
        let body = String(decoding: received[end...], as: UTF8.self)
        self.seen.withLock { $0.append(Seen(request: "\(method) \(path)", authorization: authorization, body: body)) }
        let (status, json) = self.respond(method, path, body)
        let response =
            "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + json
        let bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + sent, $0.count - sent, 0) }
            if count <= 0 { return }
            sent += count
        }
    }
}
