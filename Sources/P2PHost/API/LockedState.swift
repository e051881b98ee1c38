import Synchronization

/// A `Mutex` in a class, so closures and several owners can share it (a `Mutex` itself cannot be captured).
final class LockedState<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result: Sendable, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try self.mutex.withLock { (value: inout sending Value) throws(Failure) -> Result in
            try body(&value)
        }
    }
}
