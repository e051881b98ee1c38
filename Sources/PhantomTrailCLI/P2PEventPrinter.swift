import Foundation
import P2PCore
import P2PHost

/// Prints host events as JSON lines (a contract: field names and order are fixed) or readable text, writing each
/// line to stdout at once (unbuffered).
struct P2PEventPrinter: Sendable {
    /// One JSON value of an event line.
    enum JSONValue {
        case string(String)
        case strings([String])
        case number(Double)
        case null
    }

    var json: Bool

    func listening(peer: PeerID, addresses: [Multiaddr]) {
        if self.json {
            self.emit(
                Self.object([
                    ("event", .string("listening")), ("peer_id", .string(peer.description)),
                    ("addrs", .strings(addresses.map(\.description))),
                ])
            )
        } else {
            self.emit("listening as \(peer)")
            for address in addresses {
                self.emit("  \(address)")
            }
        }
    }

    func event(_ event: HostEvent) {
        switch event {
        case .peerConnected(let peer, let direction, let address):
            if self.json {
                self.emit(
                    Self.object([
                        ("event", .string("peer_connected")), ("peer_id", .string(peer.description)),
                        ("direction", .string(direction.rawValue)), ("addr", address.map { .string("\($0)") } ?? .null),
                    ])
                )
            } else {
                self.emit("connected to \(peer) (\(direction.rawValue)\(address.map { ", \($0)" } ?? ""))")
            }
        case .peerDisconnected(let peer):
            if self.json {
                self.emit(
                    Self.object([("event", .string("peer_disconnected")), ("peer_id", .string(peer.description))])
                )
            } else {
                self.emit("disconnected from \(peer)")
            }
        case .identified(let peer, let agentVersion, let protocols, let listenAddresses):
            if self.json {
                self.emit(
                    Self.object([
                        ("event", .string("identify")), ("peer_id", .string(peer.description)),
                        ("agent_version", agentVersion.map { .string($0) } ?? .null),
                        ("protocols", .strings(protocols)),
                        ("listen_addrs", .strings(listenAddresses.map(\.description))),
                    ])
                )
            } else {
                let agent = agentVersion ?? "unknown agent"
                self.emit("identified \(peer): \(agent); protocols \(protocols.joined(separator: ", "))")
            }
        case .error(let message, _):
            self.failure(message)
        }
    }

    func ping(peer: PeerID, rtt: Duration) {
        let milliseconds = Double(rtt.components.seconds) * 1000 + Double(rtt.components.attoseconds) / 1e15
        let rounded = (milliseconds * 1000).rounded() / 1000
        if self.json {
            self.emit(
                Self.object([
                    ("event", .string("ping")), ("peer_id", .string(peer.description)), ("rtt_ms", .number(rounded)),
                ])
            )
        } else {
            self.emit("ping \(peer): \(rounded) ms")
        }
    }

    func failure(_ message: String) {
        if self.json {
            self.emit(Self.object([("event", .string("error")), ("message", .string(message))]))
        } else {
            self.emit("error: \(message)")
        }
    }

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// A compact JSON object with the fields in the given order.
    static func object(_ fields: [(String, JSONValue)]) -> String {
        let members = fields.map { key, value in
            let encoded: String
            switch value {
            case .string(let text): encoded = Self.quote(text)
            case .strings(let texts): encoded = "[" + texts.map(Self.quote).joined(separator: ",") + "]"
            case .number(let number): encoded = number.isFinite ? "\(number)" : "null"
            case .null: encoded = "null"
            }
            return Self.quote(key) + ":" + encoded
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
