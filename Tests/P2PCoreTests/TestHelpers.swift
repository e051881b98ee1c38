import P2PCore
import Testing

/// Decodes hex test data ("0a 1b" or "0a1b"); a malformed literal is a bug in the test.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    precondition(digits.count % 2 == 0, "odd hex literal")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: preconditionFailure("bad hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

/// Runs `body` and returns the ``P2PCoreError`` code it throws, or `nil` if it does not throw.
func errorCode<T>(_ body: () throws -> T) -> P2PCoreError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as P2PCoreError {
        return error.code
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}
