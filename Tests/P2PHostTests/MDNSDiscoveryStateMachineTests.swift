import NIOCore
import P2PCore
import TestSupport
import Testing

@testable import P2PHost

/// A peer ID from a fixed seed byte.
func fixedPeer(_ seed: UInt8) throws -> PeerID {
    PeerID(publicKey: try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32)).publicKey)
}

@Suite("mDNS discovery state machine")
struct MDNSDiscoveryStateMachineTests {
    let service = try! DNSName(parsing: "_p2p._udp.local")
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    let local: PeerID
    let remote: PeerID

    init() throws {
        self.local = try fixedPeer(1)
        self.remote = try fixedPeer(2)
    }

    func makeMachine(
        minResponseInterval: TimeAmount = .seconds(1),
        maxPeers: Int = 256
    ) throws -> MDNSDiscoveryStateMachine {
        var configuration = MDNSDiscoveryStateMachine.Configuration(serviceName: self.service)
        configuration.minResponseInterval = minResponseInterval
        configuration.maxPeers = maxPeers
        var machine = try MDNSDiscoveryStateMachine(
            localPeer: self.local,
            peerName: "ourpeername0123456789abcdefghijklmnop",
            configuration: configuration
        )
        machine.addressesChanged(
            MDNSDiscoveryStateMachine.advertisable(
                [try Multiaddr(parsing: "/ip4/192.168.1.5/tcp/4001")],
                localPeer: self.local,
                includeLoopback: false
            )
        )
        return machine
    }

    var query: DNSMessage {
        DNSMessage(questions: [DNSQuestion(name: self.service, type: .ptr)])
    }

    /// A response from `peer` as another implementation sends it: PTR answer, TXT additional.
    func response(from peer: PeerID, name: String, addresses: [String], ttl: UInt32 = 120) throws -> DNSMessage {
        let instance = try self.service.prepending(name)
        let strings = addresses.map { Array("dnsaddr=\($0)/p2p/\(peer)".utf8) }
        return DNSMessage(
            flags: 0x8400,
            answers: [DNSResourceRecord(name: self.service, ttl: ttl, data: .ptr(instance))],
            additionals: [DNSResourceRecord(name: instance, ttl: ttl, data: .txt(strings), cacheFlush: true)]
        )
    }

    @Test("Start sends a PTR query for _p2p._udp.local, then queries at 0.5 s, 1 s, 2 s … up to the interval")
    func querySchedule() throws {
        var machine = try self.makeMachine()
        #expect(machine.start(now: self.start) == .sendQuery(self.query, wakeUpAt: self.start + .milliseconds(500)))
        var now = self.start + .milliseconds(500)
        var gaps: [TimeAmount] = []
        for _ in 0..<12 {
            let action = machine.timerFired(now: now)
            #expect(action.query == self.query)
            let next = try #require(action.wakeUpAt)
            gaps.append(next - now)
            now = next
        }
        #expect(
            Array(gaps.prefix(9))
                == [1, 2, 4, 8, 16, 32, 64, 128, 256].map { TimeAmount.seconds($0) }
        )
        #expect(gaps.suffix(3).allSatisfy { $0 == .minutes(5) })
        // Waking early sends nothing and keeps the deadline.
        let early = machine.timerFired(now: now - .seconds(1))
        #expect(early.query == nil)
        #expect(early.wakeUpAt == now)
    }

    @Test("A query for our service is answered with PTR, TXT dnsaddr, SRV and A records")
    func answersQueries() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        guard case .respond(let response) = machine.messageReceived(self.query, now: self.start) else {
            Issue.record("no response to a query for our service")
            return
        }
        let instance = try self.service.prepending("ourpeername0123456789abcdefghijklmnop")
        let host = try DNSName(parsing: "ourpeername0123456789abcdefghijklmnop.local")
        #expect(response.flags == 0x8400)
        #expect(response.answers == [DNSResourceRecord(name: self.service, ttl: 120, data: .ptr(instance))])
        #expect(
            response.additionals == [
                DNSResourceRecord(
                    name: instance,
                    ttl: 120,
                    data: .txt([Array("dnsaddr=/ip4/192.168.1.5/tcp/4001/p2p/\(self.local)".utf8)]),
                    cacheFlush: true
                ),
                DNSResourceRecord(
                    name: instance,
                    ttl: 120,
                    data: .srv(priority: 0, weight: 0, port: 4001, target: host),
                    cacheFlush: true
                ),
                DNSResourceRecord(name: host, ttl: 120, data: .a(IPv4Address(192, 168, 1, 5)), cacheFlush: true),
            ]
        )
        // The response is valid on the wire and a second machine discovers us from it.
        var other = try MDNSDiscoveryStateMachine(
            localPeer: self.remote,
            peerName: "otherpeername0123456789abcdefghijklm",
            configuration: .init(serviceName: self.service)
        )
        _ = other.start(now: self.start)
        let wire = try DNSMessage(bytes: try response.encoded())
        guard case .reportPeers(let found, [], _) = other.messageReceived(wire, now: self.start) else {
            Issue.record("the other machine did not report us")
            return
        }
        #expect(
            found == [
                DiscoveredPeer(
                    peerID: self.local,
                    addresses: [try Multiaddr(parsing: "/ip4/192.168.1.5/tcp/4001/p2p/\(self.local)")]
                )
            ]
        )
    }

    @Test("Direct questions for our instance or host name, and DNS-SD enumeration, are answered too")
    func answersOtherQuestions() throws {
        let instance = try self.service.prepending("ourpeername0123456789abcdefghijklmnop")
        let questions = [
            DNSQuestion(name: instance, type: .txt),
            DNSQuestion(name: try DNSName(parsing: "OURPEERNAME0123456789ABCDEFGHIJKLMNOP.local"), type: .a),
            DNSQuestion(name: self.service, type: .any),
        ]
        for question in questions {
            var machine = try self.makeMachine()
            _ = machine.start(now: self.start)
            guard case .respond = machine.messageReceived(DNSMessage(questions: [question]), now: self.start) else {
                Issue.record("no response to \(question)")
                continue
            }
        }
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let enumeration = DNSMessage(questions: [
            DNSQuestion(name: MDNSDiscoveryStateMachine.serviceEnumerationName, type: .ptr)
        ])
        guard case .respond(let response) = machine.messageReceived(enumeration, now: self.start) else {
            Issue.record("no response to a DNS-SD enumeration")
            return
        }
        #expect(
            response.answers.contains(
                DNSResourceRecord(
                    name: MDNSDiscoveryStateMachine.serviceEnumerationName,
                    ttl: 120,
                    data: .ptr(self.service)
                )
            )
        )
    }

    @Test("Other questions, responses to nothing, other opcodes and error codes are ignored")
    func ignoresOthers() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let other = DNSMessage(questions: [DNSQuestion(name: try DNSName(parsing: "_http._tcp.local"), type: .ptr)])
        #expect(machine.messageReceived(other, now: self.start) == .doNothing)
        var opcode = self.query
        opcode.flags = 0x2000
        #expect(machine.messageReceived(opcode, now: self.start) == .doNothing)
        var withError = try self.response(from: self.remote, name: "x", addresses: ["/ip4/10.0.0.2/tcp/1"])
        withError.flags |= 0x0003
        #expect(machine.messageReceived(withError, now: self.start) == .doNothing)
        #expect(machine.knownPeers.isEmpty)
    }

    @Test("Nothing is answered before start, after stop, or when there is no address to advertise")
    func silentWhenNotRunning() throws {
        var idle = try self.makeMachine()
        #expect(idle.messageReceived(self.query, now: self.start) == .doNothing)
        var empty = try self.makeMachine()
        empty.addressesChanged([])
        _ = empty.start(now: self.start)
        #expect(empty.messageReceived(self.query, now: self.start) == .doNothing)
        var stopped = try self.makeMachine()
        _ = stopped.start(now: self.start)
        _ = stopped.stop()
        #expect(stopped.messageReceived(self.query, now: self.start) == .doNothing)
        #expect(stopped.timerFired(now: self.start + .seconds(10)) == .init(query: nil, expired: [], wakeUpAt: nil))
    }

    @Test("Responses are rate limited to one per second")
    func responseRateLimit() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        var answered: [Int] = []
        for tenth in 0..<25 {
            if case .respond = machine.messageReceived(self.query, now: self.start + .milliseconds(Int64(tenth) * 100))
            {
                answered.append(tenth)
            }
        }
        #expect(answered == [0, 10, 20])
    }

    @Test("A peer is reported once, again when it gains an address, and never ourselves")
    func dedupe() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let first = try self.response(from: self.remote, name: "remote", addresses: ["/ip4/10.0.0.2/tcp/4001"])
        let address1 = try Multiaddr(parsing: "/ip4/10.0.0.2/tcp/4001/p2p/\(self.remote)")
        let address2 = try Multiaddr(parsing: "/ip4/10.0.0.3/tcp/4001/p2p/\(self.remote)")
        guard case .reportPeers(let found, [], _) = machine.messageReceived(first, now: self.start) else {
            Issue.record("first response not reported")
            return
        }
        #expect(found == [DiscoveredPeer(peerID: self.remote, addresses: [address1])])
        guard case .reportPeers([], [], _) = machine.messageReceived(first, now: self.start + .seconds(1)) else {
            Issue.record("a repeated response was reported again")
            return
        }
        let more = try self.response(
            from: self.remote,
            name: "remote",
            addresses: ["/ip4/10.0.0.2/tcp/4001", "/ip4/10.0.0.3/tcp/4001"]
        )
        guard case .reportPeers(let again, [], _) = machine.messageReceived(more, now: self.start + .seconds(2)) else {
            Issue.record("a new address was not reported")
            return
        }
        #expect(again == [DiscoveredPeer(peerID: self.remote, addresses: [address1, address2])])
        let ourselves = try self.response(
            from: self.local,
            name: "ourpeername0123456789abcdefghijklmnop",
            addresses: ["/ip4/192.168.1.5/tcp/4001"]
        )
        #expect(machine.messageReceived(ourselves, now: self.start) == .doNothing)
        #expect(machine.knownPeers.map(\.peerID) == [self.remote])
    }

    @Test("TXT strings without dnsaddr=, unparsable or without /p2p are skipped; py-libp2p's dnsaddr2= is read")
    func txtParsing() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let instance = try self.service.prepending("remote")
        let strings = [
            "id=whatever", "dnsaddr=/ip4/10.0.0.9/tcp/1", "dnsaddr=not a multiaddr", "dnsaddr",
            "dnsaddrx=/ip4/1.1.1.1/tcp/1",
            "dnsaddr2=/ip4/10.0.0.2/tcp/4002/p2p/\(self.remote)",
        ]
        // A TXT record under another service is ignored too.
        let otherService = try DNSName(parsing: "remote._other._udp.local")
        let message = DNSMessage(
            flags: 0x8400,
            answers: [
                DNSResourceRecord(name: instance, ttl: 120, data: .txt(strings.map { Array($0.utf8) })),
                DNSResourceRecord(
                    name: otherService,
                    ttl: 120,
                    data: .txt([Array("dnsaddr=/ip4/10.0.0.7/tcp/1/p2p/\(try fixedPeer(3))".utf8)])
                ),
            ]
        )
        guard case .reportPeers(let found, [], _) = machine.messageReceived(message, now: self.start) else {
            Issue.record("nothing reported")
            return
        }
        #expect(
            found == [
                DiscoveredPeer(
                    peerID: self.remote,
                    addresses: [try Multiaddr(parsing: "/ip4/10.0.0.2/tcp/4002/p2p/\(self.remote)")]
                )
            ]
        )
    }

    @Test("Records expire after their TTL; the peer is forgotten and reported again when it comes back")
    func expiry() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let message = try self.response(
            from: self.remote,
            name: "remote",
            addresses: ["/ip4/10.0.0.2/tcp/4001"],
            ttl: 2
        )
        guard case .reportPeers(_, _, let wakeUpAt) = machine.messageReceived(message, now: self.start) else {
            Issue.record("not reported")
            return
        }
        // The next query is due at +0.5 s, which comes before the expiry at +2 s.
        #expect(wakeUpAt == self.start + .milliseconds(500))
        let beforeExpiry = machine.timerFired(now: self.start + .milliseconds(1500))
        #expect(beforeExpiry.expired.isEmpty)
        #expect(beforeExpiry.wakeUpAt == self.start + .seconds(2))
        let atExpiry = machine.timerFired(now: self.start + .seconds(2))
        #expect(atExpiry.expired == [self.remote])
        #expect(machine.knownPeers.isEmpty)
        guard case .reportPeers(let back, [], _) = machine.messageReceived(message, now: self.start + .seconds(3))
        else {
            Issue.record("a returning peer was not reported")
            return
        }
        #expect(back.map(\.peerID) == [self.remote])
    }

    @Test("A goodbye (TTL 0) removes the peer at once and reports it as departed")
    func goodbye() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        _ = machine.messageReceived(
            try self.response(from: self.remote, name: "r", addresses: ["/ip4/10.0.0.2/tcp/1"]),
            now: self.start
        )
        let bye = try self.response(from: self.remote, name: "r", addresses: ["/ip4/10.0.0.2/tcp/1"], ttl: 0)
        guard case .reportPeers([], let departed, _) = machine.messageReceived(bye, now: self.start) else {
            Issue.record("goodbye not reported")
            return
        }
        #expect(departed == [self.remote])
        #expect(machine.knownPeers.isEmpty)
    }

    @Test("Stop returns our records with TTL 0")
    func stopSaysGoodbye() throws {
        var machine = try self.makeMachine()
        _ = machine.start(now: self.start)
        let stopped = machine.stop()
        let goodbye = try #require(stopped)
        #expect(goodbye.isResponse)
        #expect(goodbye.allRecords.allSatisfy { $0.ttl == 0 })
        #expect(goodbye.answers.count == 1)
        #expect(machine.stop() == nil)
    }

    @Test("The peer table is bounded: peers beyond the limit are ignored until others expire")
    func peerLimit() throws {
        var machine = try self.makeMachine(maxPeers: 2)
        _ = machine.start(now: self.start)
        for seed: UInt8 in 10..<15 {
            _ = machine.messageReceived(
                try self.response(
                    from: try fixedPeer(seed),
                    name: "p\(seed)",
                    addresses: ["/ip4/10.0.0.\(seed)/tcp/1"]
                ),
                now: self.start
            )
        }
        #expect(machine.knownPeers.count == 2)
    }

    @Test("Advertised addresses: LAN ip4/ip6 + tcp only, loopback only when asked, /p2p appended, others' dropped")
    func advertisable() throws {
        let input = try [
            "/ip4/127.0.0.1/tcp/1", "/ip4/0.0.0.0/tcp/2", "/ip4/192.168.0.2/tcp/3", "/ip6/::1/tcp/4",
            "/ip6/fd00::2/tcp/5",
            "/ip4/192.168.0.2/udp/6", "/dns/example.com/tcp/7", "/ip4/10.0.0.1/tcp/8/p2p/\(self.remote)",
            "/ip4/10.0.0.1/tcp/9/p2p/\(self.local)",
        ].map { try Multiaddr(parsing: $0) }
        let lan = MDNSDiscoveryStateMachine.advertisable(input, localPeer: self.local, includeLoopback: false)
        #expect(
            lan.map(\.description) == [
                "/ip4/192.168.0.2/tcp/3/p2p/\(self.local)", "/ip6/fd00::2/tcp/5/p2p/\(self.local)",
                "/ip4/10.0.0.1/tcp/9/p2p/\(self.local)",
            ]
        )
        let withLoopback = MDNSDiscoveryStateMachine.advertisable(input, localPeer: self.local, includeLoopback: true)
        #expect(withLoopback.count == 5)
        #expect(withLoopback.first?.description == "/ip4/127.0.0.1/tcp/1/p2p/\(self.local)")
    }

    @Test("Random peer names are 32 to 63 lower-case letters and digits")
    func peerNames() {
        var generator = SplitMix64(seed: 42)
        var lengths: Set<Int> = []
        for _ in 0..<50 {
            let name = MDNSDiscoveryStateMachine.randomPeerName(using: &generator)
            #expect((32...63).contains(name.count))
            lengths.insert(name.count)
            #expect(name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        }
        #expect(lengths.count > 10)
    }
}
