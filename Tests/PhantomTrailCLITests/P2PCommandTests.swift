import Foundation
import P2PCore
import Testing

@testable import PhantomTrailCLI

@Suite("p2p id output")
struct P2PCommandTests {
    @Test("The output is one JSON object with exactly a peer_id naming the key's Ed25519 peer ID")
    func jsonShape() throws {
        let key = try PrivateKey(ed25519Seed: [UInt8](repeating: 7, count: 32))
        let peerID = PeerID(publicKey: key.publicKey)
        let line = P2PCommand.ID.jsonLine(peerID: peerID)
        #expect(!line.contains("\n"))
        let object = try #require(try jsonObject(line) as? [String: Any])
        #expect(Array(object.keys) == ["peer_id"])
        let text = try #require(object["peer_id"] as? String)
        #expect(text.hasPrefix("12D3KooW"))
        #expect(try PeerID(parsing: text) == peerID)
    }
}
