import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import Testing

@Suite("GossipSub service over libp2p hosts", .timeLimit(.minutes(2)))
struct GossipSubServiceTests {
    @Test("Two hosts: a signed message published on one is received once on the other, with its author")
    func twoHostsPublishAndReceive() async throws {
        let changes = ChangeSignal()
        let alice = try await ServiceNode.start(changes: changes, listen: false)
        let bob = try await ServiceNode.start(changes: changes, listen: false)
        let received = MessageCollector(await bob.service.subscribe("news"), changes: changes)
        _ = await alice.service.subscribe("news")
        _ = try await alice.host.connect(inProcessTo: bob.host)

        await changes.waitUntil {
            let alicePeers = await alice.service.peers(subscribedTo: "news")
            let bobPeers = await bob.service.peers(subscribedTo: "news")
            return alicePeers == [bob.peer] && bobPeers == [alice.peer]
        }
        let id = try await alice.service.publish(topic: "news", data: Array("hello".utf8))
        await changes.waitUntil { !received.messages.isEmpty }

        let message = try #require(received.messages.first)
        #expect(message.topic == "news")
        #expect(message.data == Array("hello".utf8))
        #expect(message.from == alice.peer)
        #expect(message.propagationSource == alice.peer)
        #expect(message.id == id)
        #expect(received.messages.count == 1)
        await alice.stop()
        await bob.stop()
    }

    @Test("A StrictNoSign topic carries no author, and a rejecting validator keeps a message from the application")
    func noSignAndValidator() async throws {
        var configuration = GossipSubServiceConfiguration()
        configuration.router.topics["anon"] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        let changes = ChangeSignal()
        let alice = try await ServiceNode.start(changes: changes, configuration: configuration, listen: false)
        let bob = try await ServiceNode.start(changes: changes, configuration: configuration, listen: false)
        let received = MessageCollector(await bob.service.subscribe("anon"), changes: changes)
        bob.service.setValidator(topic: "anon") { message in
            message.data == Array("bad".utf8) ? .reject : .accept
        }
        _ = await alice.service.subscribe("anon")
        _ = try await alice.host.connect(inProcessTo: bob.host)
        await changes.waitUntil { await alice.service.peers(subscribedTo: "anon") == [bob.peer] }

        try await alice.service.publish(topic: "anon", data: Array("bad".utf8))
        try await alice.service.publish(topic: "anon", data: Array("good".utf8))
        await changes.waitUntil { !received.messages.isEmpty }

        #expect(received.messages.map(\.data) == [Array("good".utf8)])
        #expect(received.messages.first?.from == nil)
        #expect(received.messages.first?.message.seqno == nil)
        await alice.stop()
        await bob.stop()
    }
}
