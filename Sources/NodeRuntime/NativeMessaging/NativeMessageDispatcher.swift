/// Turns each decoded frame into exactly one reply: parses the request, calls the ``NodeControl`` and
/// encodes the answer or an error. It never throws: every failure becomes an error reply.
public struct NativeMessageDispatcher: Sendable {
    /// The node the requests go to.
    public let control: any NodeControl

    /// A dispatcher over `control`.
    public init(control: any NodeControl) {
        self.control = control
    }

    /// The reply (unframed JSON bytes, at most 1 MB) to one event of the frame decoder.
    public func reply(to event: NativeMessageFrameDecoder.Event) async -> [UInt8] {
        switch event {
        case .message(let bytes):
            return await self.reply(toMessage: bytes)
        case .oversized(let length):
            return Self.bounded(
                NativeErrorReply(
                    id: nil,
                    type: nil,
                    code: .messageTooLarge,
                    message: "a \(length)-byte message exceeds the \(NativeMessageFraming.maximumIncomingBytes)-byte "
                        + "limit; it was skipped"
                ).json
            )
        }
    }

    /// The reply to a truncated last frame.
    public func replyToTruncatedInput(missingBytes: Int) -> [UInt8] {
        Self.bounded(
            NativeErrorReply(
                id: nil,
                type: nil,
                code: .truncatedMessage,
                message: "the input ended \(missingBytes) bytes before the end of the last message"
            ).json
        )
    }

    /// The reply to one message's bytes.
    public func reply(toMessage bytes: [UInt8]) async -> [UInt8] {
        let json: NativeJSON
        do throws(NodeRuntimeError) {
            json = try NativeJSON(parsing: bytes)
        } catch {
            return Self.bounded(NativeErrorReply(id: nil, type: nil, code: .malformedJSON, message: error.message).json)
        }
        let request: NativeRequest
        do throws(NativeErrorReply) {
            request = try NativeRequest(json: json)
        } catch {
            return Self.bounded(error.json)
        }
        return Self.bounded(await self.perform(request), id: request.id, type: request.kind.typeName)
    }

    /// Runs a parsed request against the node.
    func perform(_ request: NativeRequest) async -> NativeJSON {
        let type = request.kind.typeName
        do {
            let result: NativeJSON
            switch request.kind {
            case .getStatus: result = try await self.control.status()
            case .getStats: result = try await self.control.stats()
            case .getComparison: result = try await self.control.comparison()
            case .getInsights: result = try await self.control.insights()
            case .submitReport(let report): result = try await self.control.submitReport(report)
            case .updateSettings(let change): result = try await self.control.updateSettings(change)
            }
            return NativeSuccessReply(id: request.id, type: type, result: result).json
        } catch let error as NodeRuntimeError {
            let code: NativeErrorReply.Code = error.code == .nodeNotRunning ? .nodeNotRunning : .nodeError
            return NativeErrorReply(id: request.id, type: type, code: code, message: error.message).json
        } catch {
            return NativeErrorReply(id: request.id, type: type, code: .nodeError, message: "\(error)").json
        }
    }

    /// The encoded reply, replaced by a `response_too_large` error when it would exceed 1 MB.
    private static func bounded(_ reply: NativeJSON, id: NativeJSON? = nil, type: String? = nil) -> [UInt8] {
        let bytes = reply.encoded()
        if bytes.count <= NativeMessageFraming.maximumOutgoingBytes {
            return bytes
        }
        // An oversized id is dropped too, so this reply always fits.
        let smallID = id.flatMap { $0.encoded().count <= 1024 ? $0 : nil }
        return NativeErrorReply(
            id: smallID,
            type: type,
            code: .responseTooLarge,
            message: "the answer (\(bytes.count) bytes) exceeds the \(NativeMessageFraming.maximumOutgoingBytes)-byte "
                + "limit of native messaging"
        ).json.encoded()
    }
}
