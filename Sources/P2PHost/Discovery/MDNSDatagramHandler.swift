import Logging
import NIOCore

/// One datagram received on the mDNS socket, decoded.
enum MDNSInbound: Sendable {
    /// A well-formed DNS message from `sender`.
    case message(DNSMessage, sender: SocketAddress)
    /// A datagram that is not a valid DNS message.
    case malformed(P2PHostError, sender: SocketAddress)
}

/// The only handler of the mDNS UDP channel: decodes each datagram with ``DNSMessage/init(decoding:)`` and hands it
/// to ``MDNSDiscovery`` through an `AsyncStream`, which it finishes when the channel closes. Writes pass through
/// untouched (``MDNSDiscovery`` writes `AddressedEnvelope<ByteBuffer>`s to the group).
final class MDNSDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let continuation: AsyncStream<MDNSInbound>.Continuation
    private let logger: Logger

    init(continuation: AsyncStream<MDNSInbound>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        do {
            let message = try DNSMessage(decoding: envelope.data)
            self.continuation.yield(.message(message, sender: envelope.remoteAddress))
        } catch {
            self.continuation.yield(.malformed(error, sender: envelope.remoteAddress))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket error (e.g. an ICMP error for an earlier send) does not end discovery.
        self.logger.trace("mDNS socket error", metadata: ["error": "\(error)"])
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.continuation.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.continuation.finish()
    }
}

@available(*, unavailable)
extension MDNSDatagramHandler: Sendable {}
