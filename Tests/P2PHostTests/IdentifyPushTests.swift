import NIOCore
import P2PCore
import Testing

@testable import P2PHost

/// Waits for an identify result of `peer` that satisfies `matches` (pushes arrive as `.identified` events).
private func identifyEvent(
    of peer: PeerID,
    at host: VirtualHost,
    where matches: @escaping (_ protocols: [String], _ addresses: [Multiaddr], _ agent: String?) -> Bool
) async throws -> HostEvent {
    try await host.next {
        guard case .identified(peer, let agent, let protocols, let addresses) = $0 else { return false }
        return matches(protocols, addresses, agent)
    }
}

/// Writes `payload` on a raw push stream from `from` to `to`, then reads how the stream ended (EOF or reset).
private func rawPush(_ payload: ByteBuffer, from: LibP2PHost, to: PeerID) async throws -> P2PHostError.Code? {
    let stream = try await from.newStream(to: to, protocols: [Identify.pushProtocolID])
    try await stream.write(payload)
    try await stream.closeWrite()
    do {
        while try await stream.read() != nil {}
        await stream.close()
        return nil
    } catch let error as P2PHostError {
        return error.code
    }
}

@Suite("Identify push", .timeLimit(.minutes(1)))
struct IdentifyPushTests {
    private func connectedPair(_ net: VirtualNetwork) async throws -> (VirtualHost, VirtualHost) {
        let a = try await net.makeHost()
        let b = try await net.makeHost()
        _ = try await a.host.dial(try b.address)
        try await a.identified(b.peerID)
        try await b.identified(a.peerID)
        return (a, b)
    }

    @Test("Hosts announce the identify push protocol")
    func announcesPush() async throws {
        let net = VirtualNetwork()
        let (a, b) = try await self.connectedPair(net)
        #expect(a.host.protocols.contains(Identify.pushProtocolID))
        #expect(b.host.identifyResult(of: a.peerID)?.protocols.contains(Identify.pushProtocolID) == true)
        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A protocol added or removed after connecting is pushed to connected peers")
    func protocolChangesArePushed() async throws {
        let net = VirtualNetwork()
        let (a, b) = try await self.connectedPair(net)
        let added = "/test/added/1.0.0"

        a.host.setHandler(protocol: added) { stream in await stream.close() }
        _ = try await identifyEvent(of: a.peerID, at: b) { protocols, _, _ in protocols.contains(added) }
        #expect(b.host.identifyResult(of: a.peerID)?.protocols == a.host.protocols)
        // Untouched fields stay.
        #expect(b.host.identifyResult(of: a.peerID)?.agentVersion == HostConfiguration().agentVersion)

        a.host.removeHandler(protocol: added)
        _ = try await identifyEvent(of: a.peerID, at: b) { protocols, _, _ in !protocols.contains(added) }
        #expect(b.host.identifyResult(of: a.peerID)?.protocols == a.host.protocols)

        // Replacing an existing handler changes no protocol list, so it pushes nothing (checked through the count).
        let pushes = a.host.identifyPushCount
        a.host.setHandler(protocol: Ping.protocolID) { stream in try await Ping.respond(on: stream) }
        #expect(a.host.identifyPushCount == pushes)

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("A listen address added after connecting is pushed to connected peers")
    func listenAddressIsPushed() async throws {
        let net = VirtualNetwork()
        let (a, b) = try await self.connectedPair(net)
        let added = try await a.host.listen(on: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0"))
        #expect(a.host.listenAddresses.count == 2)
        #expect(a.host.listenAddresses.last == added)

        _ = try await identifyEvent(of: a.peerID, at: b) { _, addresses, _ in addresses.count == 2 }
        #expect(
            b.host.identifyResult(of: a.peerID)?.listenAddresses == a.host.listenAddresses.map { $0.removingPeerID() }
        )
        // The new address takes connections.
        let c = try await net.makeHost(listen: false)
        #expect(try await c.host.dial(added) == a.peerID)
        await c.host.shutdown()
        await a.host.shutdown()
        try await b.disconnected(from: a.peerID)
        await b.host.shutdown()
    }

    @Test("A partial push replaces only the fields it carries")
    func partialPush() async throws {
        let net = VirtualNetwork()
        let (a, b) = try await self.connectedPair(net)
        let before = try #require(b.host.identifyResult(of: a.peerID))

        let code = try await rawPush(
            lengthPrefixed(IdentifyMessage(protocols: ["/only/this/1.0.0"])),
            from: a.host,
            to: b.peerID
        )
        #expect(code == nil)
        _ = try await identifyEvent(of: a.peerID, at: b) { protocols, _, _ in protocols == ["/only/this/1.0.0"] }
        let after = try #require(b.host.identifyResult(of: a.peerID))
        #expect(after.protocols == ["/only/this/1.0.0"])
        #expect(after.listenAddresses == before.listenAddresses)
        #expect(after.agentVersion == before.agentVersion)
        #expect(after.publicKey == before.publicKey)

        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("An oversized or malformed push is refused with a stream reset and leaves the record unchanged")
    func badPushes() async throws {
        let net = VirtualNetwork()
        let (a, b) = try await self.connectedPair(net)
        let before = try #require(b.host.identifyResult(of: a.peerID))

        // One message over the 8 KiB limit.
        var oversized = ByteBuffer()
        oversized.writeUVarintLengthPrefixed(
            IdentifyMessage(agentVersion: String(repeating: "x", count: IdentifyMessage.maxMessageSize)).encoded
        )
        #expect(try await rawPush(oversized, from: a.host, to: b.peerID) == .streamReset)

        // A length prefix that promises more than the stream carries.
        var truncated = ByteBuffer()
        truncated.writeBytes([0x20, 0x0A, 0x01])
        #expect(try await rawPush(truncated, from: a.host, to: b.peerID) == .streamReset)

        // Another peer's public key.
        let impostor = lengthPrefixed(IdentifyMessage(publicKey: PrivateKey().publicKey, protocols: ["/evil/1.0.0"]))
        #expect(try await rawPush(impostor, from: a.host, to: b.peerID) == .streamReset)

        #expect(b.host.identifyResult(of: a.peerID) == before)
        await a.host.shutdown()
        await b.host.shutdown()
    }

    @Test("apply(push:) keeps what the push leaves out")
    func applyPush() throws {
        let key = PrivateKey().publicKey
        let address = try Multiaddr(parsing: "/ip4/10.0.0.1/tcp/4001")
        var record = IdentifyMessage(
            publicKey: key,
            listenAddresses: [address],
            protocols: ["/a/1.0.0"],
            protocolVersion: "ipfs/0.1.0",
            agentVersion: "agent/1"
        )
        record.apply(push: IdentifyMessage())
        #expect(record.listenAddresses == [address])
        #expect(record.protocols == ["/a/1.0.0"])
        #expect(record.agentVersion == "agent/1")

        let other = try Multiaddr(parsing: "/ip4/10.0.0.2/tcp/4002")
        record.apply(push: IdentifyMessage(listenAddresses: [other], agentVersion: "agent/2"))
        #expect(record.listenAddresses == [other])
        #expect(record.protocols == ["/a/1.0.0"])
        #expect(record.agentVersion == "agent/2")
        #expect(record.publicKey == key)
    }
}
