public import NIOCore

/// Limits for one multistream-select negotiation. Every message from the peer is checked against them.
public struct MultistreamSelectConfiguration: Hashable, Sendable {
    /// The largest message accepted from the peer, counting the trailing newline (go-multistream: 1024).
    public var maxMessageSize: Int
    /// The most negotiation bytes accepted from the peer before a protocol is chosen.
    public var maxNegotiationBytes: Int
    /// The most proposals (and `ls` requests) a listener answers before giving up.
    public var maxListenerAttempts: Int
    /// How long the negotiation may take before the handler gives up; `nil` waits forever.
    public var timeout: TimeAmount?
    /// Optimistic ("lazy") dialing, for a dialer with exactly one proposal that the peer is known to
    /// support: ``MultistreamSelectHandler`` reports success as soon as the header and proposal are
    /// written, so the protocol may send data at once, and confirms the echo in the background (a late
    /// `na` then reaches the pipeline as an error and closes the channel).
    public var optimisticDialer: Bool

    /// Creates a configuration; the defaults suit libp2p connection and stream upgrades.
    public init(
        maxMessageSize: Int = 1024,
        maxNegotiationBytes: Int = 16 * 1024,
        maxListenerAttempts: Int = 32,
        timeout: TimeAmount? = .seconds(10),
        optimisticDialer: Bool = false
    ) {
        self.maxMessageSize = maxMessageSize
        self.maxNegotiationBytes = maxNegotiationBytes
        self.maxListenerAttempts = maxListenerAttempts
        self.timeout = timeout
        self.optimisticDialer = optimisticDialer
    }
}
