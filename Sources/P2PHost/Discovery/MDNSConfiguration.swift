/// Settings of ``MDNSDiscovery``. The defaults follow the libp2p mDNS spec
/// (https://github.com/libp2p/specs/blob/master/discovery/mdns.md): service `_p2p._udp.local`, group
/// 224.0.0.251 port 5353, LAN addresses only.
public struct MDNSConfiguration: Sendable, Hashable {
    /// The multicast group to use.
    public enum IPVersion: Sendable, Hashable {
        /// 224.0.0.251.
        case v4
        /// ff02::fb (link-local).
        case v6
    }

    /// The DNS-SD service name; `_p2p._udp.local` unless the network uses a private service name.
    public var serviceName: String
    /// Which multicast group (and socket family) to use.
    public var ipVersion: IPVersion
    /// The UDP port of the group; 5353 everywhere but in tests that want to be alone.
    public var port: Int
    /// The address of the interface to multicast on and join the group on, e.g. `"127.0.0.1"` for loopback-only
    /// tests; `nil` lets the system choose (the interface of the default route).
    public var interfaceAddress: String?
    /// Whether to advertise loopback listen addresses. The spec asks for addresses reachable on the LAN, so the
    /// default is `false`; tests on one machine turn it on.
    public var advertiseLoopback: Bool
    /// The longest gap between our queries (they start at 0.5 s and double up to this).
    public var queryInterval: Duration
    /// The TTL of the records we advertise (whole seconds).
    public var recordTTL: Duration

    /// Settings with the spec's defaults.
    public init(
        serviceName: String = "_p2p._udp.local",
        ipVersion: IPVersion = .v4,
        port: Int = 5353,
        interfaceAddress: String? = nil,
        advertiseLoopback: Bool = false,
        queryInterval: Duration = .seconds(300),
        recordTTL: Duration = .seconds(120)
    ) {
        self.serviceName = serviceName
        self.ipVersion = ipVersion
        self.port = port
        self.interfaceAddress = interfaceAddress
        self.advertiseLoopback = advertiseLoopback
        self.queryInterval = queryInterval
        self.recordTTL = recordTTL
    }
}
