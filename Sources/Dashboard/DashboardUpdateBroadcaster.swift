import Synchronization

/// Fans change notifications out to every open event stream: a data source returns ``subscribe()`` from
/// ``DashboardDataSource/updates()`` and calls ``publish(_:)`` when something changes.
///
/// Each subscriber keeps at most `bufferLimit` undelivered updates (the newest win: the page refetches
/// anyway). ``finish()`` ends every stream, present and future.
public final class DashboardUpdateBroadcaster: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<DashboardUpdate>.Continuation] = [:]
        var nextID = 0
        var finished = false
    }

    // Guards the subscriber table; continuations are themselves thread-safe.
    private let state = Mutex(State())
    private let bufferLimit: Int

    /// Creates a broadcaster.
    /// - Parameter bufferLimit: undelivered updates kept per subscriber (at least 1).
    public init(bufferLimit: Int = 16) {
        self.bufferLimit = max(bufferLimit, 1)
    }

    /// A new stream that receives every update published from now on.
    public func subscribe() -> AsyncStream<DashboardUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DashboardUpdate.self,
            bufferingPolicy: .bufferingNewest(self.bufferLimit)
        )
        let id: Int? = self.state.withLock { state in
            guard !state.finished else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends `update` to every open stream.
    public func publish(_ update: DashboardUpdate) {
        let subscribers = self.state.withLock { Array($0.subscribers.values) }
        for continuation in subscribers {
            continuation.yield(update)
        }
    }

    /// The number of open streams.
    public var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

    /// Ends every stream; later subscribers get a stream that is already finished.
    public func finish() {
        let subscribers = self.state.withLock { state in
            state.finished = true
            let all = Array(state.subscribers.values)
            state.subscribers.removeAll()
            return all
        }
        for continuation in subscribers {
            continuation.finish()
        }
    }
}
