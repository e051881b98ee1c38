import NIOCore

/// Counts a connection's open streams and reports each change to an observer (the connection manager's idle
/// tracking); it reads no clock.
final class StreamTracker: Sendable {
    private struct Tracking {
        var open = 0
        var observer: (@Sendable (Int) -> Void)?
    }

    private let tracking = LockedState(Tracking())

    /// Counts `channel` as open until its close future completes.
    func track(_ channel: any Channel) {
        self.change(by: 1)
        channel.closeFuture.whenComplete { _ in
            self.change(by: -1)
        }
    }

    /// Calls `observer` with the open stream count now and after every change.
    func observe(_ observer: @escaping @Sendable (Int) -> Void) {
        // Called under the lock so counts arrive in order (the observer takes only its own, unrelated lock).
        self.tracking.withLock { tracking in
            tracking.observer = observer
            observer(tracking.open)
        }
    }

    /// The number of open streams.
    var openStreams: Int {
        self.tracking.withLock { $0.open }
    }

    private func change(by delta: Int) {
        self.tracking.withLock { tracking in
            tracking.open += delta
            tracking.observer?(tracking.open)
        }
    }
}
