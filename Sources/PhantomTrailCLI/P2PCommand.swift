import ArgumentParser
import P2PCore

/// `phantom-trail p2p`: tools for the libp2p side of the node (identity now; listen, ping, pubsub later).
struct P2PCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p",
        abstract: "libp2p tools: identities and, later, listening, ping and pubsub.",
        subcommands: [ID.self]
    )
}

extension P2PCommand {
    /// `phantom-trail p2p id`: prints a freshly generated identity as one JSON line.
    struct ID: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: "Generate a new Ed25519 identity and print its peer ID as JSON: {\"peer_id\": \"12D3KooW…\"}."
        )

        mutating func run() throws {
            let peerID = PeerID(publicKey: PrivateKey().publicKey)
            print(Self.jsonLine(peerID: peerID))
        }

        /// The output contract: exactly `{"peer_id": "<base58btc peer ID>"}`.
        ///
        /// Base58btc text never contains characters that need JSON escaping.
        static func jsonLine(peerID: PeerID) -> String {
            "{\"peer_id\": \"\(peerID)\"}"
        }
    }
}
