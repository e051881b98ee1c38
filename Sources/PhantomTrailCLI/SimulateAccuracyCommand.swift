import ArgumentParser
import Foundation
import PrivacyCore
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SimulateCommand {
    /// `phantom-trail simulate accuracy`: the community statistics against the synthetic population's truth.
    struct Accuracy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accuracy",
            abstract: "Run synthetic users through the real randomizers, envelopes and estimators, and print the "
                + "network average and grade shares against the population's true values."
        )

        @Option(name: .long, help: "The number of users (nodes) per run.")
        var users: Int = 1000

        @Option(name: .long, help: "The number of runs (seeds first-seed, first-seed + 1, …).")
        var seeds: Int = 20

        @Option(name: .customLong("first-seed"), help: "The first seed.")
        var firstSeed: UInt64 = 1

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard (50...1_000_000).contains(self.users) else {
                throw ValidationError("--users must be between 50 (the display minimum) and 1000000, got \(self.users)")
            }
            guard (1...10_000).contains(self.seeds) else {
                throw ValidationError("--seeds must be between 1 and 10000, got \(self.seeds)")
            }
        }

        func run() async throws {
            let seeds = (0..<UInt64(self.seeds)).map { self.firstSeed &+ $0 }
            let showProgress = isatty(STDERR_FILENO) == 1 && !self.json
            let result = await AccuracySimulation(users: self.users, seeds: seeds).run { fraction in
                if showProgress { Gossip.drawProgress(fraction) }
            }
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            if self.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(
                    positiveInfinity: "inf",
                    negativeInfinity: "-inf",
                    nan: "nan"
                )
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(Self.report(result, users: self.users))
            }
        }

        static func report(_ result: AccuracySimulation.Result, users: Int) -> String {
            func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            var lines = [
                "\(result.runs.count) runs of \(users) users (two reports each, real randomizers, envelopes and "
                    + "estimators); 95% intervals",
                "seed   average [95% interval]    truth  error  in   grade shares A/B/C/D/F % (truth)",
            ]
            for run in result.runs {
                let a = run.average
                let grades = Grade.allCases.map { grade in
                    run.gradeShares[grade].map { "\(format($0.value)) (\(format($0.truth)))\($0.covered ? "" : "!")" }
                        ?? "-"
                }
                lines.append(
                    "\(String(run.seed).padding(toLength: 6, withPad: " ", startingAt: 0)) "
                        + "\(format(a.value)) [\(format(a.lower)), \(format(a.upper))]".padding(
                            toLength: 25,
                            withPad: " ",
                            startingAt: 0
                        )
                        + " \(format(a.truth, 2))  \(format(a.error, 2).padding(toLength: 5, withPad: " ", startingAt: 0))"
                        + "  \(a.covered ? "yes" : "NO ")  \(grades.joined(separator: " / "))"
                )
            }
            let byGrade = Grade.allCases.map {
                "\($0) \(format(100 * (result.gradeShareCoverageByGrade[$0] ?? 0), 0))%"
            }
            lines += [
                "average: coverage \(format(100 * result.averageCoverage, 0))%, mean |error| "
                    + "\(format(result.averageMeanAbsoluteError, 2)) points, RMSE \(format(result.averageRootMeanSquareError, 2)), "
                    + "mean half-width \(format(result.averageMeanHalfWidth, 2))",
                "grade shares: coverage \(format(100 * result.gradeShareCoverage, 0))% (\(byGrade.joined(separator: ", "))), "
                    + "mean |error| \(format(result.gradeShareMeanAbsoluteError, 2)) percentage points",
                "(\"!\": truth outside the interval)",
            ]
            return lines.joined(separator: "\n")
        }
    }
}
