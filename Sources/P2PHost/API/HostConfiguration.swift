public import NIOCore
public import P2PCore
public import P2PYamux

/// Settings of a ``LibP2PHost``; the defaults suit a small node on loopback or a LAN.
public struct HostConfiguration: Sendable {
    /// The addresses to listen on (`/ip4/…/tcp/…` or `/ip6/…/tcp/…`; port 0 picks a free port).
    public var listenAddresses: [Multiaddr]
    /// The agent version announced by identify.
    public var agentVersion: String
    /// How long a TCP connect may take.
    public var dialTimeout: TimeAmount
    /// How long the whole upgrade (multistream-select, Noise, multistream-select, Yamux) may take.
    public var handshakeTimeout: TimeAmount
    /// The most connection upgrades in flight at once; further inbound connections are closed at once.
    public var maxPendingHandshakes: Int
    /// The most connections (established plus upgrading): further inbound connections are closed after accept and
    /// ``LibP2PHost/dial(_:)`` throws ``P2PHostError/Code/tooManyConnections``.
    public var maxConnections: Int
    /// How long a stream's multistream-select negotiation may take.
    public var streamNegotiationTimeout: TimeAmount
    /// Closes a connection after this long without an open stream (5 minutes by default; connections to peers kept
    /// with ``LibP2PHost/keepConnected(to:)`` stay); `nil` keeps idle connections.
    public var idleTimeout: Duration?
    /// Yamux limits, windows and keepalive (its inbound stream initializer is set by the host).
    public var yamux: YamuxConfiguration
    /// Whether the host asks every newly connected peer for its identify record (on by default; the host always
    /// answers identify requests). Off suits a host that never needs peers' protocols or addresses, such as the
    /// benchmark of bare connection upgrades.
    public var identifyOnConnect = true
    /// Whether the muxer is chosen inside the Noise handshake (on by default): each side lists `/yamux/1.0.0` in its
    /// handshake payload's `stream_muxers`, and when both did, the multistream-select round for the muxer is skipped
    /// (https://github.com/libp2p/specs/blob/master/connections/inlined-muxer-negotiation.md). A peer that lists none
    /// (py-libp2p 0.8.1 is one) gets the multistream-select round as before. Off: always that round.
    public var inlinedMuxerNegotiation = true

    /// Creates a configuration.
    public init(
        listenAddresses: [Multiaddr] = [],
        agentVersion: String = "phantom-trail/0.1.0",
        dialTimeout: TimeAmount = .seconds(10),
        handshakeTimeout: TimeAmount = .seconds(10),
        maxPendingHandshakes: Int = 64,
        maxConnections: Int = 256,
        streamNegotiationTimeout: TimeAmount = .seconds(10),
        idleTimeout: Duration? = .seconds(300),
        yamux: YamuxConfiguration = YamuxConfiguration()
    ) {
        self.idleTimeout = idleTimeout
        self.listenAddresses = listenAddresses
        self.agentVersion = agentVersion
        self.dialTimeout = dialTimeout
        self.handshakeTimeout = handshakeTimeout
        self.maxPendingHandshakes = maxPendingHandshakes
        self.maxConnections = maxConnections
        self.streamNegotiationTimeout = streamNegotiationTimeout
        self.yamux = yamux
    }
}
