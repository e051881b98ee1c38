import Crypto
import Foundation

/// The two-layer (RAPPOR-style) randomizer behind every wire report (privacy-design.md, "Wire reports").
///
/// 1. **Permanent layer**: GRR with ε = ``permanentEpsilon`` (4) over the report type's domain, memoized per
///    question and true value: its output is a deterministic function of
///    HMAC-SHA256(``RandomizerSecret``, tag ‖ type ‖ question ‖ true value). An observer who collects
///    every report about an unchanged value learns at most this response: the lifetime bound ε∞ ≤ 4.
/// 2. **Instantaneous layer**: GRR over the same domain, drawn fresh for every report, with the ε
///    that makes the composite exactly GRR with the type's per-report ε (``ReportType/epsilon``).
///
/// Why the composite is GRR: a GRR matrix is `λ·I + (1 − λ)/k·J` with `λ = p − q = (e^ε − 1)/(e^ε + k − 1)`;
/// the product of two such matrices is the same shape with `λ = λ₁·λ₂`. So the instantaneous layer uses
/// `λᵢ = λ_report / λ_permanent`, i.e. `e^εᵢ = (1 + λᵢ(k − 1)) / (1 − λᵢ)`. Estimators debias with the
/// effective ``ReportType/randomizer``.
///
/// Why ε_perm = 4 for every type: it is the stated lifetime bound, and the largest permanent ε leaves the
/// most fresh noise per report, which makes two reports of one user harder to link (Naor–Vexler's
/// objection to RAPPOR's memoized layer). The lifetime bound holds per question: a changed true value
/// (or, for the tool report, another tool T) gets its own permanent response.
public struct TwoLayerRandomizer: Hashable, Sendable {
    /// The permanent layer's ε, which is also the lifetime bound ε∞ for an unchanged value.
    public static let permanentEpsilon: Double = 4

    /// The report type this randomizer serves.
    public let reportType: ReportType
    /// The memoized layer.
    public let permanent: GeneralizedRandomizedResponse
    /// The fresh per-report layer.
    public let instantaneous: GeneralizedRandomizedResponse

    /// The randomizer of `reportType` in protocol v1.
    public init(reportType: ReportType) {
        let k = reportType.domainSize
        let permanent = GeneralizedRandomizedResponse(domainSize: k, epsilon: Self.permanentEpsilon)
        let target = reportType.randomizer
        precondition(target.epsilon < Self.permanentEpsilon, "the per-report ε must be below the permanent ε")
        let lambda = target.identityWeight / permanent.identityWeight
        let instantaneousEpsilon = log((1 + lambda * Double(k - 1)) / (1 - lambda))
        self.reportType = reportType
        self.permanent = permanent
        self.instantaneous = GeneralizedRandomizedResponse(domainSize: k, epsilon: instantaneousEpsilon)
    }

    /// The effective one-report randomizer (the composite of both layers), as estimators see it.
    public var effective: GeneralizedRandomizedResponse { self.reportType.randomizer }

    /// The memoized response for a true value: the same inputs always give the same output.
    /// - Parameters:
    ///   - trueIndex: the true value's index in `0..<domainSize`.
    ///   - question: distinguishes questions within one type (the tool index for ``ReportType/tool``; 0 otherwise).
    ///   - secret: the device-local secret.
    public func permanentResponse(trueIndex: Int, question: Int = 0, secret: RandomizerSecret) -> Int {
        precondition((0..<256).contains(question), "question index must fit one byte")
        var message = Array("phantom-trail/permanent-response/v1".utf8)
        message.append(UInt8(self.reportType.index))
        message.append(UInt8(question))
        message.append(UInt8(trueIndex))
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret.bytes))
        return self.permanentResponse(trueIndex: trueIndex, seed: Array(mac))
    }

    /// The permanent response drawn from a 32-byte seed (the HMAC output in production).
    func permanentResponse(trueIndex: Int, seed: [UInt8]) -> Int {
        var generator = DeterministicGenerator(seed: seed)
        return self.permanent.respond(to: trueIndex, using: &generator)
    }

    /// The permanent response drawn from a seed given as four words (for the empirical audit).
    func permanentResponse(trueIndex: Int, seedWords: (UInt64, UInt64, UInt64, UInt64)) -> Int {
        var generator = DeterministicGenerator(words: seedWords)
        return self.permanent.respond(to: trueIndex, using: &generator)
    }

    /// A fresh instantaneous response to a permanent response.
    public func instantaneousResponse(to permanentIndex: Int, using rng: inout some RandomNumberGenerator) -> Int {
        self.instantaneous.respond(to: permanentIndex, using: &rng)
    }

    /// Both layers: what one report carries for a true value.
    public func randomize(
        trueIndex: Int,
        question: Int = 0,
        secret: RandomizerSecret,
        using rng: inout some RandomNumberGenerator
    ) -> Int {
        let permanent = self.permanentResponse(trueIndex: trueIndex, question: question, secret: secret)
        return self.instantaneousResponse(to: permanent, using: &rng)
    }
}

extension ReportType {
    /// The two-layer randomizer of this type (protocol v1).
    public var twoLayerRandomizer: TwoLayerRandomizer { TwoLayerRandomizer(reportType: self) }
}
