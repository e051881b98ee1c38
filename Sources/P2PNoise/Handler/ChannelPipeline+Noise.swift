public import Logging
public import NIOCore
public import P2PCore

extension ChannelPipeline.SynchronousOperations {
    /// Adds a ``NoiseHandler`` at the end of the pipeline and returns the handshake outcome.
    ///
    /// Must be called on the channel's event loop.
    ///
    /// - Parameters:
    ///   - role: ``NoiseRole/initiator`` on the side that dialled, ``NoiseRole/responder`` otherwise.
    ///   - configuration: Our identity and Noise static key (reusable across connections).
    ///   - expectedRemotePeer: The peer ID named by the dialled address, if any.
    ///   - logger: Receives debug messages from the handler.
    /// - Returns: A future for the verified remote identity; it fails with a ``NoiseError``.
    public func configureNoise(
        role: NoiseRole,
        configuration: NoiseConfiguration,
        expectedRemotePeer: PeerID? = nil,
        logger: Logger = NoiseHandler.disabledLogger
    ) throws -> EventLoopFuture<NoiseHandshakeResult> {
        let promise = self.eventLoop.makePromise(of: NoiseHandshakeResult.self)
        let handler = NoiseHandler(
            role: role,
            configuration: configuration,
            expectedRemotePeer: expectedRemotePeer,
            handshakePromise: promise,
            logger: logger
        )
        do {
            try self.addHandler(handler)
        } catch {
            promise.fail(error)
            throw error
        }
        return promise.futureResult
    }
}

extension ChannelPipeline {
    /// Adds a ``NoiseHandler`` for `localKey` (with a fresh Noise static key) at the end of the
    /// pipeline and returns the handshake outcome.
    ///
    /// - Parameters:
    ///   - role: ``NoiseRole/initiator`` on the side that dialled, ``NoiseRole/responder`` otherwise.
    ///   - localKey: Our libp2p identity key.
    ///   - expectedRemotePeer: The peer ID named by the dialled address, if any.
    ///   - logger: Receives debug messages from the handler.
    /// - Returns: A future for the verified remote identity; it fails with a ``NoiseError``.
    public func configureNoise(
        role: NoiseRole,
        localKey: PrivateKey,
        expectedRemotePeer: PeerID? = nil,
        logger: Logger = NoiseHandler.disabledLogger
    ) -> EventLoopFuture<NoiseHandshakeResult> {
        let configuration: NoiseConfiguration
        do {
            configuration = try NoiseConfiguration(localIdentity: localKey)
        } catch {
            return self.eventLoop.makeFailedFuture(error)
        }
        return self.configureNoise(
            role: role,
            configuration: configuration,
            expectedRemotePeer: expectedRemotePeer,
            logger: logger
        )
    }

    /// Adds a ``NoiseHandler`` at the end of the pipeline and returns the handshake outcome.
    ///
    /// - Parameters:
    ///   - role: ``NoiseRole/initiator`` on the side that dialled, ``NoiseRole/responder`` otherwise.
    ///   - configuration: Our identity and Noise static key (reusable across connections).
    ///   - expectedRemotePeer: The peer ID named by the dialled address, if any.
    ///   - logger: Receives debug messages from the handler.
    /// - Returns: A future for the verified remote identity; it fails with a ``NoiseError``.
    public func configureNoise(
        role: NoiseRole,
        configuration: NoiseConfiguration,
        expectedRemotePeer: PeerID? = nil,
        logger: Logger = NoiseHandler.disabledLogger
    ) -> EventLoopFuture<NoiseHandshakeResult> {
        if self.eventLoop.inEventLoop {
            return self.eventLoop.makeCompletedFuture {
                try self.syncOperations.configureNoise(
                    role: role,
                    configuration: configuration,
                    expectedRemotePeer: expectedRemotePeer,
                    logger: logger
                )
            }.flatMap { $0 }
        }
        return self.eventLoop.submit {
            try self.syncOperations.configureNoise(
                role: role,
                configuration: configuration,
                expectedRemotePeer: expectedRemotePeer,
                logger: logger
            )
        }.flatMap { $0 }
    }
}
