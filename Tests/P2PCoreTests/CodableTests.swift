import Foundation
import P2PCore
import Testing

@Suite("Codable peer IDs and multiaddrs")
struct CodableTests {
    private struct Entry: Codable, Equatable {
        var peer: PeerID
        var address: Multiaddr
    }

    @Test("Encode as their text forms and decode back")
    func roundTrip() throws {
        let entry = Entry(
            peer: try PeerID(parsing: KeyVectors.ed25519PeerID),
            address: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001")
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(entry), as: UTF8.self)
        #expect(json == #"{"address":"/ip4/127.0.0.1/tcp/4001","peer":"\#(KeyVectors.ed25519PeerID)"}"#)
        #expect(try JSONDecoder().decode(Entry.self, from: Data(json.utf8)) == entry)
    }

    @Test("Reject invalid text with a decoding error")
    func rejectsInvalid() {
        let badPeer = #"{"address":"/ip4/127.0.0.1/tcp/1","peer":"nope"}"#
        let badAddress = #"{"address":"/quic-v1","peer":"\#(KeyVectors.ed25519PeerID)"}"#
        for json in [badPeer, badAddress] {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode(Entry.self, from: Data(json.utf8))
            }
        }
    }
}
