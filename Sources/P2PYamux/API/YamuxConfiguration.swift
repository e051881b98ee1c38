public import NIOCore

/// Which end of the connection a Yamux session is: the dialer is the client (odd stream IDs), the listener the
/// server (even stream IDs).
public enum YamuxRole: Hashable, Sendable {
    /// The connection dialer; opens odd-numbered streams.
    case client
    /// The connection listener; opens even-numbered streams.
    case server
}

/// Settings of a Yamux session, with defaults that interoperate with go-yamux and rust-yamux.
public struct YamuxConfiguration: Sendable {
    /// The spec's initial per-stream window, 256 KiB.
    public static let initialStreamWindow = 256 * 1024
    /// The default largest Data payload accepted from the peer (rust-yamux's limit), 1 MiB.
    public static let defaultMaximumInboundDataFrameLength = 1024 * 1024

    /// Called on the event loop for every stream the peer opens, to set up the stream's pipeline.
    ///
    /// When `nil`, inbound streams are wrapped as `NIOAsyncChannel<ByteBuffer, ByteBuffer>` and delivered through
    /// ``YamuxSession/inbound``.
    public var inboundStreamInitializer: (@Sendable (any Channel) -> EventLoopFuture<Void>)?

    /// Most streams open at once, counting both directions; a SYN beyond this is answered with RST.
    public var maximumConcurrentStreams: Int = 512

    /// Most outbound streams that may wait for the peer's ACK (the spec's backlog of 256).
    public var maximumUnacknowledgedStreams: Int = 256

    /// The receive window each stream starts with. The spec's implicit window is 256 KiB; a larger value is granted
    /// to the peer by the window update that carries SYN or ACK (go-yamux's `InitialStreamWindowSize`). Raising it
    /// helps throughput on links where the round trip is short but processing is slow.
    public var initialReceiveWindow: Int = YamuxConfiguration.initialStreamWindow

    /// The largest receive window a stream may grow to by auto-tuning (go-yamux: 16 MiB).
    public var maximumStreamWindow: Int = 16 * 1024 * 1024

    /// Most bytes the session buffers for readers that have not consumed them, across all streams.
    ///
    /// Receive windows only grow while their sum stays under this cap; a Data frame that would push the
    /// buffered total over it resets its stream.
    public var maximumBufferedBytes: Int = 64 * 1024 * 1024

    /// The largest Data payload accepted from the peer.
    public var maximumInboundDataFrameLength: Int = YamuxConfiguration.defaultMaximumInboundDataFrameLength

    /// The largest Data payload we send: 65507 bytes, so that header plus payload fit one Noise frame.
    public var maximumOutboundDataFrameLength: Int = 65_519 - 12

    /// How long the session may be idle before we ping the peer; `nil` disables pings (and window auto-tuning,
    /// which needs the ping round-trip time).
    public var keepaliveInterval: TimeAmount? = .seconds(30)

    /// How long to wait for a ping reply before closing the session.
    public var keepaliveTimeout: TimeAmount = .seconds(10)

    /// A stream channel becomes unwritable when this many bytes wait for send window.
    public var outboundBufferHighWatermark: Int = 1024 * 1024

    /// An unwritable stream channel becomes writable again when its buffered bytes fall to this.
    public var outboundBufferLowWatermark: Int = 256 * 1024

    /// Makes a configuration with the defaults.
    public init() {}
}
