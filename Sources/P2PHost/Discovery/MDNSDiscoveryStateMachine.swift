// libp2p mDNS discovery, https://github.com/libp2p/specs/blob/master/discovery/mdns.md: query `_p2p._udp.local`
// for PTR records, answer with a PTR to our peer name and TXT records `dnsaddr=<multiaddr>/p2p/<peer ID>`.

import NIOCore
public import P2PCore

/// A peer found on the local network and the addresses it advertised (each ends in `/p2p/<peerID>`).
public struct DiscoveredPeer: Hashable, Sendable {
    /// The peer's ID.
    public var peerID: PeerID
    /// Its advertised addresses, sorted by text.
    public var addresses: [Multiaddr]

    /// A discovered peer.
    public init(peerID: PeerID, addresses: [Multiaddr]) {
        self.peerID = peerID
        self.addresses = addresses
    }
}

/// The pure protocol logic of mDNS discovery: when to query, what to answer, which peers were found and when their
/// records expire. The ``MDNSDiscovery`` service feeds it received messages and timer wake-ups stamped with an
/// injected clock, and sends what it returns.
///
/// Queries go out at start-up, then after 0.5 s, doubling up to ``Configuration/queryInterval`` (rust-libp2p's
/// probing schedule). Responses are multicast and rate limited to one per ``Configuration/minResponseInterval``
/// (RFC 6762 §6). Besides the spec's PTR + TXT, responses carry the optional DNS-SD records (SRV, A/AAAA) that
/// zeroconf-based peers such as py-libp2p need to resolve a service.
struct MDNSDiscoveryStateMachine {
    /// The tunable parts of the protocol.
    struct Configuration: Hashable, Sendable {
        /// The DNS-SD service name, `_p2p._udp.local` in the spec.
        var serviceName: DNSName
        /// The first gap between queries; it doubles after each query.
        var initialQueryInterval: TimeAmount = .milliseconds(500)
        /// The longest gap between queries.
        var queryInterval: TimeAmount = .minutes(5)
        /// The TTL of the records we advertise, in seconds.
        var recordTTL: UInt32 = 120
        /// The longest time a discovered address is kept without being seen again, whatever its TTL says.
        var maxRecordLifetime: TimeAmount = .minutes(10)
        /// The shortest gap between two of our multicast responses.
        var minResponseInterval: TimeAmount = .seconds(1)
        /// Peers kept at most; responses about further peers are ignored until some expire.
        var maxPeers = 256
        /// Addresses kept per peer at most.
        var maxAddressesPerPeer = 16
    }

    /// What to do after start-up.
    enum StartAction: Equatable {
        /// Multicast `query` and call ``timerFired(now:)`` at `wakeUpAt`.
        case sendQuery(DNSMessage, wakeUpAt: NIODeadline)
    }

    /// What to do when the timer fires.
    struct TimerFiredAction: Equatable {
        /// A query to multicast, if one is due.
        var query: DNSMessage?
        /// Peers whose every address expired.
        var expired: [PeerID]
        /// When to call ``timerFired(now:)`` next (`nil` after ``stop()``).
        var wakeUpAt: NIODeadline?
    }

    /// What to do with a received message.
    enum MessageReceivedAction: Equatable {
        /// Multicast this response to a query.
        case respond(DNSMessage)
        /// Report new or changed peers and those that said goodbye; wake up at `wakeUpAt` (an expiry may have come
        /// closer).
        case reportPeers(discovered: [DiscoveredPeer], departed: [PeerID], wakeUpAt: NIODeadline?)
        /// Nothing to do (not for us, rate limited, or malformed for our purpose).
        case doNothing
    }

    private enum State {
        /// Not started: nothing is sent.
        case idle
        /// Querying; the next query is due at `nextQuery`, after which the gap becomes `interval`.
        case running(nextQuery: NIODeadline, interval: TimeAmount)
        /// Stopped: everything is ignored.
        case stopped
    }

    private struct KnownPeer {
        /// Each address and when it expires.
        var expiries: [Multiaddr: NIODeadline]

        /// The addresses sorted by text.
        var sortedAddresses: [Multiaddr] {
            self.expiries.keys.sorted { $0.description < $1.description }
        }
    }

    /// The DNS-SD service enumeration name (RFC 6763 §9).
    static let serviceEnumerationName = try! DNSName(parsing: "_services._dns-sd._udp.local")
    /// The TXT key prefix of an address (the spec's `dnsaddr=`).
    static let dnsaddrKey = Array("dnsaddr".utf8)

    let configuration: Configuration
    let localPeer: PeerID
    /// `<peer-name>._p2p._udp.local`.
    let instanceName: DNSName
    /// `<peer-name>.local`, the SRV target and the owner of our A/AAAA records.
    let hostName: DNSName
    private var state: State = .idle
    private var advertised: [Multiaddr] = []
    private var peers: [PeerID: KnownPeer] = [:]
    private var lastResponse: NIODeadline?

    /// A machine for `localPeer`, advertised under `peerName` (one DNS label; see ``randomPeerName(using:)``).
    init(localPeer: PeerID, peerName: String, configuration: Configuration) throws(P2PHostError) {
        self.configuration = configuration
        self.localPeer = localPeer
        self.instanceName = try configuration.serviceName.prepending(peerName)
        let domain = DNSName(uncheckedSuffixOf: configuration.serviceName)
        self.hostName = try domain.prepending(peerName)
    }

    /// A random peer name: 32 to 63 lower-case letters and digits (the spec asks for at least 32, one DNS label).
    static func randomPeerName(using generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let length = Int.random(in: 32...63, using: &generator)
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The addresses peers should learn, given the host's: ip4/ip6 with tcp, no unspecified address, loopback only
    /// when `includeLoopback`, each ending in `/p2p/<local peer>` and short enough for one TXT string.
    static func advertisable(_ addresses: [Multiaddr], localPeer: PeerID, includeLoopback: Bool) -> [Multiaddr] {
        var result: [Multiaddr] = []
        for address in addresses {
            guard address.components.count >= 2, case .tcp = address.components[1] else { continue }
            switch address.components[0] {
            case .ip4(let ip):
                if ip.value == 0 || (!includeLoopback && ip.value >> 24 == 127) { continue }
            case .ip6(let ip):
                let isUnspecified = ip.bytes.allSatisfy { $0 == 0 }
                let isLoopback = ip.bytes.dropLast().allSatisfy { $0 == 0 } && ip.bytes.last == 1
                if isUnspecified || (!includeLoopback && isLoopback) { continue }
            default:
                continue
            }
            let full: Multiaddr
            switch address.peerID {
            case .some(localPeer): full = address
            case .some: continue
            case .none: full = address.appending(.p2p(localPeer))
            }
            guard Self.dnsaddrKey.count + 1 + full.description.utf8.count <= 255, !result.contains(full) else {
                continue
            }
            result.append(full)
        }
        return result
    }

    // MARK: Events

    /// Sets the addresses to advertise (already filtered by ``advertisable(_:localPeer:includeLoopback:)``).
    mutating func addressesChanged(_ addresses: [Multiaddr]) {
        self.advertised = addresses
    }

    /// Starts querying.
    mutating func start(now: NIODeadline) -> StartAction {
        guard case .idle = self.state else {
            preconditionFailure("MDNSDiscoveryStateMachine started twice")
        }
        self.state = .running(
            nextQuery: now + self.configuration.initialQueryInterval,
            interval: self.configuration.initialQueryInterval
        )
        return .sendQuery(self.query(), wakeUpAt: now + self.configuration.initialQueryInterval)
    }

    /// The timer fired: sends a due query and forgets expired addresses.
    mutating func timerFired(now: NIODeadline) -> TimerFiredAction {
        guard case .running(var nextQuery, var interval) = self.state else {
            return TimerFiredAction(query: nil, expired: [], wakeUpAt: nil)
        }
        var query: DNSMessage?
        if now >= nextQuery {
            query = self.query()
            interval = min(.nanoseconds(interval.nanoseconds * 2), self.configuration.queryInterval)
            nextQuery = now + interval
            self.state = .running(nextQuery: nextQuery, interval: interval)
        }
        let expired = self.removeExpired(now: now)
        return TimerFiredAction(query: query, expired: expired, wakeUpAt: self.nextWakeUp)
    }

    /// A message arrived from the network (possibly our own, looped back).
    mutating func messageReceived(_ message: DNSMessage, now: NIODeadline) -> MessageReceivedAction {
        guard case .running = self.state, message.opcode == 0, message.responseCode == 0 else {
            return .doNothing
        }
        if message.isResponse {
            return self.responseReceived(message, now: now)
        }
        return self.queryReceived(message, now: now)
    }

    /// Stops; returns a goodbye response (our records with TTL 0, RFC 6762 §10.1) if we advertised anything.
    mutating func stop() -> DNSMessage? {
        guard case .running = self.state else {
            self.state = .stopped
            return nil
        }
        self.state = .stopped
        self.peers = [:]
        return self.response(ttl: 0, includeEnumeration: false)
    }

    /// The peers currently known, sorted by peer ID.
    var knownPeers: [DiscoveredPeer] {
        self.peers.keys.sorted().map { DiscoveredPeer(peerID: $0, addresses: self.peers[$0]!.sortedAddresses) }
    }

    // MARK: Internals

    private var nextWakeUp: NIODeadline? {
        guard case .running(let nextQuery, _) = self.state else { return nil }
        let earliestExpiry = self.peers.values.lazy.flatMap { $0.expiries.values }.min()
        return earliestExpiry.map { min($0, nextQuery) } ?? nextQuery
    }

    private func query() -> DNSMessage {
        DNSMessage(questions: [DNSQuestion(name: self.configuration.serviceName, type: .ptr)])
    }

    private mutating func queryReceived(_ message: DNSMessage, now: NIODeadline) -> MessageReceivedAction {
        var aboutUs = false
        var enumeration = false
        for question in message.questions where question.recordClass == 1 || question.recordClass == 255 {
            let anyType = question.type == .any
            if question.name == self.configuration.serviceName && (anyType || question.type == .ptr) {
                aboutUs = true
            } else if question.name == self.instanceName || question.name == self.hostName {
                aboutUs = true
            } else if question.name == Self.serviceEnumerationName && (anyType || question.type == .ptr) {
                enumeration = true
            }
        }
        guard aboutUs || enumeration, !self.advertised.isEmpty else {
            return .doNothing
        }
        if let last = self.lastResponse, now < last + self.configuration.minResponseInterval {
            return .doNothing
        }
        self.lastResponse = now
        return .respond(self.response(ttl: self.configuration.recordTTL, includeEnumeration: enumeration))
    }

    private func response(ttl: UInt32, includeEnumeration: Bool) -> DNSMessage {
        let service = self.configuration.serviceName
        var response = DNSMessage(flags: DNSMessage.responseFlag | DNSMessage.authoritativeFlag)
        response.answers.append(DNSResourceRecord(name: service, ttl: ttl, data: .ptr(self.instanceName)))
        if includeEnumeration {
            response.answers.append(DNSResourceRecord(name: Self.serviceEnumerationName, ttl: ttl, data: .ptr(service)))
        }
        let strings = self.advertised.map { Self.dnsaddrKey + [UInt8(ascii: "=")] + Array($0.description.utf8) }
        response.additionals.append(
            DNSResourceRecord(name: self.instanceName, ttl: ttl, data: .txt(strings), cacheFlush: true)
        )
        var port: UInt16?
        var ips: [DNSRecordData] = []
        for address in self.advertised {
            if port == nil, case .tcp(let tcpPort) = address.components[1] {
                port = tcpPort
            }
            let data: DNSRecordData
            switch address.components[0] {
            case .ip4(let ip): data = .a(ip)
            case .ip6(let ip): data = .aaaa(ip)
            default: continue
            }
            if !ips.contains(data) {
                ips.append(data)
            }
        }
        if let port {
            response.additionals.append(
                DNSResourceRecord(
                    name: self.instanceName,
                    ttl: ttl,
                    data: .srv(priority: 0, weight: 0, port: port, target: self.hostName),
                    cacheFlush: true
                )
            )
        }
        for data in ips {
            response.additionals.append(DNSResourceRecord(name: self.hostName, ttl: ttl, data: data, cacheFlush: true))
        }
        return response
    }

    private mutating func responseReceived(_ message: DNSMessage, now: NIODeadline) -> MessageReceivedAction {
        var seen: [PeerID: [(Multiaddr, UInt32)]] = [:]
        for record in message.allRecords where record.name.isDirectChild(of: self.configuration.serviceName) {
            guard case .txt(let strings) = record.data else { continue }
            for string in strings {
                guard let text = Self.dnsaddrValue(string),
                    let address = try? Multiaddr(parsing: text),
                    let peer = address.peerID,
                    peer != self.localPeer
                else { continue }
                seen[peer, default: []].append((address, record.ttl))
            }
        }
        guard !seen.isEmpty else {
            return .doNothing
        }
        var discovered: [DiscoveredPeer] = []
        var departed: [PeerID] = []
        for peer in seen.keys.sorted() {
            var known = self.peers[peer]
            if known == nil {
                guard self.peers.count < self.configuration.maxPeers else { continue }
                known = KnownPeer(expiries: [:])
            }
            guard var entry = known else { continue }
            let wasKnown = self.peers[peer] != nil
            var gained = false
            for (address, ttl) in seen[peer]! {
                if ttl == 0 {
                    entry.expiries[address] = nil
                    continue
                }
                let lifetime = min(TimeAmount.seconds(Int64(ttl)), self.configuration.maxRecordLifetime)
                if entry.expiries[address] == nil {
                    guard entry.expiries.count < self.configuration.maxAddressesPerPeer else { continue }
                    gained = true
                }
                entry.expiries[address] = now + lifetime
            }
            if entry.expiries.isEmpty {
                self.peers[peer] = nil
                if wasKnown {
                    departed.append(peer)
                }
                continue
            }
            self.peers[peer] = entry
            if gained {
                discovered.append(DiscoveredPeer(peerID: peer, addresses: entry.sortedAddresses))
            }
        }
        return .reportPeers(discovered: discovered, departed: departed, wakeUpAt: self.nextWakeUp)
    }

    /// The value of a `dnsaddr=` string, also accepting py-libp2p's `dnsaddr2=`-style numbered keys.
    private static func dnsaddrValue(_ string: [UInt8]) -> Substring? {
        guard string.count > Self.dnsaddrKey.count, string.starts(with: Self.dnsaddrKey) else { return nil }
        var index = Self.dnsaddrKey.count
        while index < string.count, string[index] >= UInt8(ascii: "0"), string[index] <= UInt8(ascii: "9") {
            index += 1
        }
        guard index < string.count, string[index] == UInt8(ascii: "=") else { return nil }
        return Substring(String(decoding: string[(index + 1)...], as: UTF8.self))
    }

    private mutating func removeExpired(now: NIODeadline) -> [PeerID] {
        var expired: [PeerID] = []
        for (peer, var entry) in self.peers {
            entry.expiries = entry.expiries.filter { $0.value > now }
            if entry.expiries.isEmpty {
                self.peers[peer] = nil
                expired.append(peer)
            } else {
                self.peers[peer] = entry
            }
        }
        return expired.sorted()
    }
}

extension DNSName {
    /// The last two labels of a service name (`local` of `_p2p._udp.local`): the domain of our host name.
    fileprivate init(uncheckedSuffixOf serviceName: DNSName) {
        // A suffix of a valid name is valid.
        self = (try? DNSName(labels: Array(serviceName.labels.dropFirst(2)))) ?? serviceName
    }
}
