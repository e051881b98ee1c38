extension GeneralizedRandomizedResponse {
    /// Randomizes one value: keeps `trueIndex` with probability ``p``, otherwise returns one of the
    /// other `domainSize − 1` values uniformly.
    /// - Parameters:
    ///   - trueIndex: the true value, in `0..<domainSize` (our own invariant: callers pass values
    ///     they derived, never peer input).
    ///   - rng: the source of randomness.
    public func respond(to trueIndex: Int, using rng: inout some RandomNumberGenerator) -> Int {
        precondition((0..<self.domainSize).contains(trueIndex), "true value outside the GRR domain")
        if rng.nextUnitInterval() < self.p {
            return trueIndex
        }
        let other = rng.nextIndex(below: self.domainSize - 1)
        return other >= trueIndex ? other + 1 : other
    }

    /// The probability that this randomizer outputs `output` when the true value is `input`.
    public func probability(of output: Int, given input: Int) -> Double {
        output == input ? self.p : self.q
    }

    /// The exact transition matrix: `matrix[input][output]` = P(output | input).
    public var transitionMatrix: [[Double]] {
        (0..<self.domainSize).map { input in
            (0..<self.domainSize).map { output in self.probability(of: output, given: input) }
        }
    }

    /// `p − q`: the weight of the identity in `M = (p − q)·I + q·J`. Composing two GRRs over the
    /// same domain multiplies these weights.
    public var identityWeight: Double { self.p - self.q }
}
