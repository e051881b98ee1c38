package import NIOCore

// multistream-select 1.0: https://github.com/multiformats/multistream-select
// and https://github.com/libp2p/specs/blob/master/connections/README.md#multistream-select

/// The multistream-select 1.0 protocol as a pure state machine, for both roles.
///
/// Every message is `<uvarint length><UTF-8 text>\n`, the length counting the newline. Both sides
/// start with the header `/multistream/1.0.0`. The dialer pipelines its header and first proposal in
/// one write and, after each `na`, proposes the next protocol. The listener sends its header together
/// with its first answer, echoes a supported proposal, answers `na` otherwise, and answers `ls` with the
/// list of its protocols. Bytes that follow the final message belong to the negotiated protocol and
/// are returned as leftover.
///
/// The machine does no I/O: ``MultistreamSelectHandler`` runs it on a channel.
package struct MultistreamSelectStateMachine {
    /// The multistream-select header and protocol ID.
    package static let protocolID = "/multistream/1.0.0"
    /// The "not available" answer.
    package static let notAvailable = "na"
    /// The list request.
    package static let list = "ls"

    /// What to do after ``start()``.
    package enum StartAction: Equatable {
        /// Write these bytes (dialer: header and first proposal).
        case send(ByteBuffer)
        /// Nothing to write yet (listener: it answers when the dialer's header arrives).
        case doNothing
    }

    /// What to do after ``bytesReceived(_:)`` or ``inputClosed()``.
    package enum BytesReceivedAction: Equatable {
        /// Wait for more bytes.
        case doNothing
        /// Write these bytes and wait for more.
        case send(ByteBuffer)
        /// Negotiation succeeded: write `send` (if any), then hand `leftover` to the negotiated protocol.
        case negotiated(protocol: String, send: ByteBuffer?, leftover: ByteBuffer)
        /// Negotiation failed; close the connection or stream.
        case failed(P2PCoreError)
    }

    private enum State {
        /// Created; ``start()`` not called yet.
        case idle
        /// Waiting for the peer's `/multistream/1.0.0` header.
        case awaitingHeader
        /// Dialer: waiting for the answer to `protocols[index]`.
        case awaitingAnswer(index: Int)
        /// Listener: waiting for a proposal or `ls`; `attempts` counts those answered so far.
        case awaitingProposal(attempts: Int)
        /// A protocol was chosen.
        case negotiated
        /// Negotiation failed.
        case failed
    }

    private let role: MultistreamSelectRole
    private let configuration: MultistreamSelectConfiguration
    private var state: State = .idle
    private var buffer = ByteBuffer()
    private var bytesConsumed = 0

    /// Creates a machine.
    ///
    /// - Precondition: a dialer proposes at least one protocol; every protocol ID is non-empty, has no
    ///   newline and fits in a message of `configuration.maxMessageSize` bytes.
    package init(role: MultistreamSelectRole, configuration: MultistreamSelectConfiguration = .init()) {
        let protocols: [String]
        switch role {
        case .dialer(let proposals):
            precondition(!proposals.isEmpty, "a multistream-select dialer needs at least one protocol")
            protocols = proposals
        case .listener(let supported):
            protocols = supported
        }
        for id in protocols {
            Self.checkProtocolID(id, configuration)
        }
        self.role = role
        self.configuration = configuration
    }

    private static func checkProtocolID(_ id: String, _ configuration: MultistreamSelectConfiguration) {
        precondition(
            !id.isEmpty && !id.utf8.contains(UInt8(ascii: "\n")) && id.utf8.count < configuration.maxMessageSize,
            "invalid multistream protocol ID '\(id)'"
        )
    }

    /// Whether the negotiation has ended (successfully or not).
    package var isFinished: Bool {
        switch self.state {
        case .negotiated, .failed: true
        case .idle, .awaitingHeader, .awaitingAnswer, .awaitingProposal: false
        }
    }

    /// Starts the negotiation: the dialer sends its header and first proposal at once (pipelining).
    package mutating func start() -> StartAction {
        guard case .idle = self.state else {
            preconditionFailure("multistream-select started twice")
        }
        self.state = .awaitingHeader
        switch self.role {
        case .dialer(let protocols):
            var out = ByteBuffer()
            Self.writeMessage(Self.protocolID, to: &out)
            Self.writeMessage(protocols[0], to: &out)
            return .send(out)
        case .listener:
            return .doNothing
        }
    }

    /// Feeds bytes from the peer.
    package mutating func bytesReceived(_ bytes: ByteBuffer) -> BytesReceivedAction {
        switch self.state {
        case .idle:
            preconditionFailure("multistream-select received bytes before start()")
        case .negotiated:
            preconditionFailure("multistream-select received bytes after negotiating; they belong to the protocol")
        case .failed:
            return .doNothing
        case .awaitingHeader, .awaitingAnswer, .awaitingProposal:
            break
        }
        var incoming = bytes
        self.buffer.writeBuffer(&incoming)

        var out: ByteBuffer?
        while true {
            let message: String?
            do {
                message = try self.readMessage()
            } catch {
                self.state = .failed
                return .failed(error)
            }
            guard let message else {
                return out.map { .send($0) } ?? .doNothing
            }
            switch self.handle(message, out: &out) {
            case .continue:
                continue
            case .negotiated(let chosen):
                let leftover = self.buffer
                self.buffer = ByteBuffer()
                return .negotiated(protocol: chosen, send: out, leftover: leftover)
            case .failed(let error):
                self.state = .failed
                return .failed(error)
            }
        }
    }

    /// The peer closed its side (EOF) before negotiation finished.
    package mutating func inputClosed() -> BytesReceivedAction {
        switch self.state {
        case .negotiated, .failed:
            return .doNothing
        case .idle, .awaitingHeader, .awaitingAnswer, .awaitingProposal:
            self.state = .failed
            return .failed(P2PCoreError(.connectionClosed, "the peer closed the stream during multistream-select"))
        }
    }

    private enum MessageOutcome {
        case `continue`
        case negotiated(String)
        case failed(P2PCoreError)
    }

    private mutating func handle(_ message: String, out: inout ByteBuffer?) -> MessageOutcome {
        switch (self.state, self.role) {
        case (.awaitingHeader, _):
            guard message == Self.protocolID else {
                return .failed(
                    P2PCoreError(
                        .multistreamProtocolViolation,
                        "expected the \(Self.protocolID) header, received '\(message.prefix(64))'"
                    )
                )
            }
            switch self.role {
            case .dialer:
                self.state = .awaitingAnswer(index: 0)
            case .listener:
                Self.writeMessage(Self.protocolID, to: &out)
                self.state = .awaitingProposal(attempts: 0)
            }
            return .continue

        case (.awaitingAnswer(let index), .dialer(let protocols)):
            if message == protocols[index] {
                self.state = .negotiated
                return .negotiated(message)
            }
            guard message == Self.notAvailable else {
                return .failed(
                    P2PCoreError(
                        .multistreamProtocolViolation,
                        "proposed '\(protocols[index])' but the listener answered '\(message.prefix(64))'"
                    )
                )
            }
            guard index + 1 < protocols.count else {
                return .failed(
                    P2PCoreError(
                        .multistreamNoCommonProtocol,
                        "the listener supports none of \(protocols)"
                    )
                )
            }
            Self.writeMessage(protocols[index + 1], to: &out)
            self.state = .awaitingAnswer(index: index + 1)
            return .continue

        case (.awaitingProposal(let attempts), .listener(let supported)):
            if supported.contains(message) {
                Self.writeMessage(message, to: &out)
                self.state = .negotiated
                return .negotiated(message)
            }
            guard attempts + 1 <= self.configuration.maxListenerAttempts else {
                return .failed(
                    P2PCoreError(
                        .multistreamLimitExceeded,
                        "the dialer sent more than \(self.configuration.maxListenerAttempts) proposals"
                    )
                )
            }
            if message == Self.list {
                Self.writeListResponse(supported, to: &out)
            } else {
                Self.writeMessage(Self.notAvailable, to: &out)
            }
            self.state = .awaitingProposal(attempts: attempts + 1)
            return .continue

        case (.idle, _), (.negotiated, _), (.failed, _), (.awaitingAnswer, .listener), (.awaitingProposal, .dialer):
            preconditionFailure("multistream-select is in an invalid state for its role")
        }
    }

    /// Reads one complete message from the buffer, or returns `nil` if it has not fully arrived.
    private mutating func readMessage() throws(P2PCoreError) -> String? {
        var view = self.buffer
        let length: UInt64
        do {
            guard let value = try view.readUVarint() else {
                return nil
            }
            length = value
        } catch {
            throw P2PCoreError(
                .multistreamProtocolViolation,
                "invalid multistream-select length prefix: \(error.message)",
                underlying: error
            )
        }
        guard length <= UInt64(self.configuration.maxMessageSize) else {
            throw P2PCoreError(
                .multistreamLimitExceeded,
                "multistream-select message of \(length) bytes exceeds the limit of \(self.configuration.maxMessageSize)"
            )
        }
        guard length > 0 else {
            throw P2PCoreError(.multistreamProtocolViolation, "empty multistream-select message")
        }
        guard let body = view.readSlice(length: Int(length)) else {
            return nil
        }
        let consumed = self.buffer.readableBytes - view.readableBytes
        guard self.bytesConsumed + consumed <= self.configuration.maxNegotiationBytes else {
            throw P2PCoreError(
                .multistreamLimitExceeded,
                "multistream-select negotiation exceeded \(self.configuration.maxNegotiationBytes) bytes"
            )
        }
        self.bytesConsumed += consumed
        self.buffer = view
        guard body.getInteger(at: body.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\n") else {
            throw P2PCoreError(.multistreamProtocolViolation, "multistream-select message does not end in a newline")
        }
        guard let text = UTF8Text.decode(body.readableBytesView.dropLast()) else {
            throw P2PCoreError(.multistreamProtocolViolation, "multistream-select message is not valid UTF-8")
        }
        return text
    }

    /// Appends `<uvarint length><text>\n`.
    package static func writeMessage(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeUVarint(UInt64(text.utf8.count + 1))
        buffer.writeString(text)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    private static func writeMessage(_ text: String, to buffer: inout ByteBuffer?) {
        var out = buffer ?? ByteBuffer()
        Self.writeMessage(text, to: &out)
        buffer = out
    }

    /// Appends the `ls` answer: one message whose body is each protocol as its own message, then `\n`.
    private static func writeListResponse(_ protocols: [String], to buffer: inout ByteBuffer?) {
        var body = ByteBuffer()
        for id in protocols {
            Self.writeMessage(id, to: &body)
        }
        body.writeInteger(UInt8(ascii: "\n"))
        var out = buffer ?? ByteBuffer()
        out.writeUVarint(UInt64(body.readableBytes))
        out.writeBuffer(&body)
        buffer = out
    }
}
