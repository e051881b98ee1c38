import Crypto
import CryptoExtras

/// The admission proof of work of a report (privacy-design.md, "Envelope"): scrypt (memory-hard, so a GPU
/// buys little) over the 512 envelope bytes, nonce included, with the network's ``NetworkParameters/digest``
/// as salt, N = 2^``NetworkParameters/scryptCostLog2``, r = 8, p = 1, 32 output bytes. The output must have
/// at least ``NetworkParameters/difficultyBits`` leading zero bits. Verification is one scrypt call.
public enum ProofOfWork {
    /// scrypt's block size r.
    public static let blockSize = 8
    /// scrypt's parallelism p.
    public static let parallelism = 1
    /// Bytes of scrypt output compared against the difficulty.
    public static let outputByteCount = 32

    /// The work value of an envelope: scrypt(envelope bytes, salt: network digest).
    public static func work(for envelope: ReportEnvelope, parameters: NetworkParameters) -> [UInt8] {
        self.work(for: envelope.encode(), salt: parameters.digest, costLog2: parameters.scryptCostLog2)
    }

    private static func work(for bytes: [UInt8], salt: [UInt8], costLog2: Int) -> [UInt8] {
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: bytes,
                salt: salt,
                outputByteCount: Self.outputByteCount,
                rounds: 1 << costLog2,
                blockSize: Self.blockSize,
                parallelism: Self.parallelism
            )
            return key.withUnsafeBytes { Array($0) }
        } catch {
            // Our parameters are validated (N a power of two within range, r = 8, p = 1), so scrypt can only
            // fail if memory runs out; all-ones has no leading zero bits and never passes verification.
            return [UInt8](repeating: 0xFF, count: Self.outputByteCount)
        }
    }

    /// Leading zero bits of a byte string.
    public static func leadingZeroBits(of bytes: [UInt8]) -> Int {
        var bits = 0
        for byte in bytes {
            if byte == 0 {
                bits += 8
            } else {
                return bits + byte.leadingZeroBitCount
            }
        }
        return bits
    }

    /// Whether an envelope carries enough work for these parameters.
    public static func verify(_ envelope: ReportEnvelope, parameters: NetworkParameters) -> Bool {
        self.leadingZeroBits(of: self.work(for: envelope, parameters: parameters)) >= parameters.difficultyBits
    }

    /// Searches a nonce that makes `envelope` pass ``verify(_:parameters:)``.
    /// - Parameters:
    ///   - envelope: the envelope (its nonce is replaced).
    ///   - parameters: the network's parameters.
    ///   - rng: picks the starting nonce (so two reports never search the same nonces).
    ///   - maximumAttempts: gives up after this many scrypt calls (nil: no limit).
    ///   - shouldContinue: asked before every attempt; return false to stop (cancellation).
    /// - Returns: the envelope with a valid nonce.
    /// - Throws: ``ProofOfWorkError/cancelled`` or ``ProofOfWorkError/attemptsExhausted(_:)``.
    public static func mint(
        _ envelope: ReportEnvelope,
        parameters: NetworkParameters,
        using rng: inout some RandomNumberGenerator,
        maximumAttempts: Int? = nil,
        shouldContinue: () -> Bool = { true }
    ) throws(ProofOfWorkError) -> ReportEnvelope {
        var candidate = envelope
        candidate.nonce = rng.next()
        let salt = parameters.digest
        var attempts = 0
        while true {
            guard shouldContinue() else { throw .cancelled }
            if let maximumAttempts, attempts >= maximumAttempts { throw .attemptsExhausted(attempts) }
            attempts += 1
            let work = self.work(for: candidate.encode(), salt: salt, costLog2: parameters.scryptCostLog2)
            if self.leadingZeroBits(of: work) >= parameters.difficultyBits {
                return candidate
            }
            candidate.nonce &+= 1
        }
    }

    /// ``mint(_:parameters:using:maximumAttempts:shouldContinue:)`` that stops when the task is cancelled.
    /// It runs on the calling task; call it from a task that may block for seconds.
    public static func mint(
        _ envelope: ReportEnvelope,
        parameters: NetworkParameters,
        using rng: inout some RandomNumberGenerator,
        maximumAttempts: Int? = nil
    ) async throws(ProofOfWorkError) -> ReportEnvelope {
        try self.mint(
            envelope,
            parameters: parameters,
            using: &rng,
            maximumAttempts: maximumAttempts,
            shouldContinue: { !Task.isCancelled }
        )
    }
}

/// Why minting stopped without a result.
public enum ProofOfWorkError: Error, Equatable, CustomStringConvertible {
    /// The caller asked to stop (task cancelled or `shouldContinue` returned false).
    case cancelled
    /// No valid nonce within the allowed number of attempts.
    case attemptsExhausted(Int)

    public var description: String {
        switch self {
        case .cancelled: "proof of work: cancelled"
        case .attemptsExhausted(let attempts): "proof of work: no valid nonce after \(attempts) attempts"
        }
    }
}
