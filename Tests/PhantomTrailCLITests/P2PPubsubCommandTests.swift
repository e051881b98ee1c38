import ArgumentParser
import Testing

@testable import PhantomTrailCLI

@Suite("phantom-trail p2p pubsub")
struct P2PPubsubCommandTests {
    @Test("The options parse, with one --listen and --dial per address")
    func parsesOptions() throws {
        let parsed = try PhantomTrail.parseAsRoot([
            "p2p", "pubsub", "--topic", "t", "--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip6/::1/tcp/0",
            "--dial", "/ip4/127.0.0.1/tcp/4001", "--publish-stdin", "--no-sign", "--json",
        ])
        let command = try #require(parsed as? P2PCommand.Pubsub)
        #expect(command.topic == "t")
        #expect(command.listen == ["/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/0"])
        #expect(command.dial == ["/ip4/127.0.0.1/tcp/4001"])
        #expect(command.publishStdin && command.noSign && command.json)
    }

    @Test(
        "A missing or empty topic and non-TCP addresses are refused",
        arguments: [
            ["p2p", "pubsub"],
            ["p2p", "pubsub", "--topic", ""],
            ["p2p", "pubsub", "--topic", "t", "--dial", "/ip4/127.0.0.1/udp/1"],
            ["p2p", "pubsub", "--topic", "t", "--listen", "not-a-multiaddr"],
        ]
    )
    func refusesBadInput(arguments: [String]) {
        #expect(throws: (any Error).self) { try PhantomTrail.parseAsRoot(arguments) }
    }

    @Test("Message lines: UTF-8 data as text, other bytes as base64, the author only when signed")
    func messageLines() {
        let json = P2PEventPrinter(json: true)
        #expect(
            json.messageLine(topic: "t", data: Array("héllo \"x\"".utf8), from: "12D3KooW")
                == #"{"event":"message","topic":"t","data":"héllo \"x\"","from":"12D3KooW"}"#
        )
        #expect(
            json.messageLine(topic: "t", data: [0xFF, 0x00, 0x80], from: nil)
                == #"{"event":"message","topic":"t","data":"/wCA","encoding":"base64"}"#
        )
        let text = P2PEventPrinter(json: false)
        #expect(text.messageLine(topic: "t", data: Array("hi".utf8), from: "P") == "message on t from P: hi")
        #expect(text.messageLine(topic: "t", data: [0xFF], from: nil) == "message on t: base64:/w==")
    }
}
