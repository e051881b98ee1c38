import Synchronization

/// A clock for timeout tests: every `sleep` waits until the test calls ``expireAll()`` or ``advance(by:)`` (or the
/// sleeper is cancelled), and ``sleepers`` yields once per sleep that started. `now` is the continuous clock
/// moved on by every ``advance(by:)``, so deadlines computed from it can be passed at will.
final class TriggerClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Duration = Swift.Duration

    private struct State {
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextID = 0
        var offset: Duration = .zero
    }

    private let state = Mutex(State())
    let sleepers: AsyncStream<Void>
    private let sleepersContinuation: AsyncStream<Void>.Continuation

    init() {
        (self.sleepers, self.sleepersContinuation) = AsyncStream<Void>.makeStream()
    }

    var now: Instant { ContinuousClock.now + self.state.withLock { $0.offset } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = self.state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                self.state.withLock { $0.waiting[id] = continuation }
                self.sleepersContinuation.yield()
                if Task.isCancelled { self.resume(id, throwing: CancellationError()) }
            }
        } onCancel: {
            self.resume(id, throwing: CancellationError())
        }
    }

    /// Moves `now` on by `amount`, then ends every current sleep.
    func advance(by amount: Duration) {
        self.state.withLock { $0.offset += amount }
        self.expireAll()
    }

    /// Ends every current sleep (their timeouts fire).
    func expireAll() {
        let all = self.state.withLock { state in
            let all = Array(state.waiting.values)
            state.waiting = [:]
            return all
        }
        for continuation in all { continuation.resume() }
    }

    private func resume(_ id: Int, throwing error: any Error) {
        let continuation = self.state.withLock { $0.waiting.removeValue(forKey: id) }
        continuation?.resume(throwing: error)
    }
}
