import Foundation
import P2PCore
import P2PHost

/// Prints host events as JSON lines (a contract: field names and order are fixed) or readable text, flushing
/// stdout after each line.
struct P2PEventPrinter: Sendable {
    var json: Bool

    func listening(peer: PeerID, addresses: [Multiaddr]) {
        if self.json {
            self.emit(
                "{\"event\":\"listening\",\"peer_id\":\(Self.quote(peer.description)),\"addrs\":\(Self.array(addresses.map(\.description)))}"
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
                    "{\"event\":\"peer_connected\",\"peer_id\":\(Self.quote(peer.description)),\"direction\":\(Self.quote(direction.rawValue)),\"addr\":\(address.map { Self.quote($0.description) } ?? "null")}"
                )
            } else {
                self.emit("connected to \(peer) (\(direction.rawValue)\(address.map { ", \($0)" } ?? ""))")
            }
        case .peerDisconnected(let peer):
            if self.json {
                self.emit("{\"event\":\"peer_disconnected\",\"peer_id\":\(Self.quote(peer.description))}")
            } else {
                self.emit("disconnected from \(peer)")
            }
        case .identified(let peer, let agentVersion, let protocols, let listenAddresses):
            if self.json {
                self.emit(
                    "{\"event\":\"identify\",\"peer_id\":\(Self.quote(peer.description)),\"agent_version\":\(agentVersion.map(Self.quote) ?? "null"),\"protocols\":\(Self.array(protocols)),\"listen_addrs\":\(Self.array(listenAddresses.map(\.description)))}"
                )
            } else {
                self.emit(
                    "identified \(peer): \(agentVersion ?? "unknown agent"); protocols \(protocols.joined(separator: ", "))"
                )
            }
        case .error(let message, _):
            self.failure(message)
        }
    }

    func ping(peer: PeerID, rtt: Duration) {
        let milliseconds = Double(rtt.components.seconds) * 1000 + Double(rtt.components.attoseconds) / 1e15
        let rounded = (milliseconds * 1000).rounded() / 1000
        if self.json {
            self.emit("{\"event\":\"ping\",\"peer_id\":\(Self.quote(peer.description)),\"rtt_ms\":\(rounded)}")
        } else {
            self.emit("ping \(peer): \(rounded) ms")
        }
    }

    func failure(_ message: String) {
        if self.json {
            self.emit("{\"event\":\"error\",\"message\":\(Self.quote(message))}")
        } else {
            self.emit("error: \(message)")
        }
    }

    private func emit(_ line: String) {
        // Unbuffered: each line reaches a pipe at once.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
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
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func array(_ items: [String]) -> String {
        "[" + items.map(Self.quote).joined(separator: ",") + "]"
    }
}
