import Foundation
import NIOCore
import P2PCore
import P2PGossipSub
import Testing

/// An opt-in measurement, not a unit test: it reads the clock and prints rates.
/// Run with `GOSSIPSUB_MEASURE=1 swift test --filter RouterThroughput` (debug-build numbers are only indicative).
@Suite(
    "GossipSub router throughput (information only)",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["GOSSIPSUB_MEASURE"] != nil)
)
struct RouterThroughputTests {
    @Test(
        "Heartbeat with 1,000 peers in 10 topics, and receive → accept → forward of signed messages",
        arguments: [false, true]
    )
    func measure(scoring: Bool) throws {
        let clock = ContinuousClock()
        var configuration = GossipSubConfiguration()
        if scoring {
            var parameters = GossipSubScoreParameters()
            for n in 0..<10 {
                parameters.topics["topic-\(n)"] = GossipSubTopicScoreParameters()
            }
            configuration.scoring = parameters
        }
        var harness = try RouterHarness(configuration: configuration)
        let topics = (0..<10).map { "topic-\($0)" }
        var peers: [PeerID] = []
        for n in 0..<1000 {
            let key = try PrivateKey(
                ed25519Seed: [UInt8](repeating: 0, count: 28)
                    + withUnsafeBytes(of: UInt32(n + 1).bigEndian) { Array($0) }
            )
            let peer = PeerID(publicKey: key.publicKey)
            _ = harness.router.peerConnected(peer, outbound: n % 3 == 0, colocationKey: "10.0.\(n / 250).\(n % 250)")
            _ = harness.receive(
                GossipSubRPC(subscriptions: topics.map { .init(subscribe: true, topic: $0) }),
                from: peer
            )
            peers.append(peer)
        }
        for topic in topics {
            _ = harness.subscribe(topic)
        }
        let messages = (0..<2000).map {
            signedMessage(topics[$0 % 10], "payload \($0)", author: 7, seqno: UInt64($0 + 1))
        }
        var forwarded = 0
        let receive = clock.measure {
            for (index, message) in messages.enumerated() {
                let effects = harness.receive(GossipSubRPC(messages: [message]), from: peers[index % 1000])
                for id in effects.validations {
                    forwarded += harness.validate(id, .accept).sent.count
                }
            }
        }
        let heartbeats = 50
        var sends = 0
        let beat = clock.measure {
            for _ in 0..<heartbeats {
                sends += harness.heartbeat().sent.count
            }
        }
        var buffer = ByteBuffer()
        let rpc = GossipSubRPC(messages: Array(messages.prefix(200)))
        let codecRounds = 50
        let codec = try clock.measure {
            for _ in 0..<codecRounds {
                buffer.clear()
                try rpc.writeFrames(into: &buffer)
                while try GossipSubRPC.readFrame(from: &buffer) != nil {}
            }
        }
        #expect(forwarded > 0 && sends > 0)
        func perSecond(_ count: Int, _ duration: Duration) -> Int {
            Int(Double(count) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18))
        }
        print("gossipsub (scoring \(scoring ? "on" : "off")):")
        print(
            "gossipsub: \(perSecond(messages.count, receive)) signed messages/s received, verified, accepted, forwarded (\(forwarded) sends)"
        )
        print(
            "gossipsub: \(receive / messages.count) per message; heartbeat (1,000 peers, 10 topics): \(beat / heartbeats)"
        )
        print("gossipsub: codec \(perSecond(codecRounds * rpc.messages.count, codec)) messages/s encoded+decoded")
    }
}
