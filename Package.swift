// swift-tools-version:6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "CryptoExtras", package: "swift-crypto")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")

let package = Package(
    name: "phantom-trail-community",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PrivacyCore", targets: ["PrivacyCore"]),
        .library(name: "CommunityInsights", targets: ["CommunityInsights"]),
        .library(name: "P2PCore", targets: ["P2PCore"]),
        .library(name: "P2PNoise", targets: ["P2PNoise"]),
        .library(name: "P2PYamux", targets: ["P2PYamux"]),
        .library(name: "P2PHost", targets: ["P2PHost"]),
        .library(name: "P2PGossipSub", targets: ["P2PGossipSub"]),
        .library(name: "TestSupport", targets: ["TestSupport"]),
        .executable(name: "phantom-trail", targets: ["PhantomTrailCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Domain: one user's data, what may leave the device, wire reports. swift-crypto only.
        .target(name: "PrivacyCore", dependencies: [crypto, cryptoExtras], swiftSettings: upcomingFeatures),
        // Community statistics computed over many reports.
        .target(name: "CommunityInsights", dependencies: ["PrivacyCore"], swiftSettings: upcomingFeatures),

        // The libp2p stack: never imports the domain.
        .target(name: "P2PCore", dependencies: [nioCore, crypto, logging], swiftSettings: upcomingFeatures),
        .target(
            name: "P2PNoise",
            dependencies: ["P2PCore", nioCore, crypto, logging],
            swiftSettings: upcomingFeatures
        ),
        .target(name: "P2PYamux", dependencies: ["P2PCore", nioCore, logging], swiftSettings: upcomingFeatures),

        // Transports, upgrade pipeline, identify, ping, connection manager and the async Host.
        .target(
            name: "P2PHost",
            dependencies: ["P2PCore", "P2PNoise", "P2PYamux", nioCore, nioPosix, crypto, logging, serviceLifecycle],
            swiftSettings: upcomingFeatures
        ),

        // GossipSub v1.1: protobuf RPC, a pure router (mesh, gossip, scoring) and its driver.
        .target(
            name: "P2PGossipSub",
            dependencies: ["P2PCore", nioCore, crypto, logging],
            swiftSettings: upcomingFeatures
        ),

        // Shared test and simulation helpers (synthetic population, seeded RNG, manual clock).
        .target(
            name: "TestSupport",
            dependencies: ["PrivacyCore", "CommunityInsights", "P2PCore", "P2PGossipSub", nioCore, nioEmbedded],
            swiftSettings: upcomingFeatures
        ),

        .executableTarget(
            name: "PhantomTrailCLI",
            dependencies: [
                "PrivacyCore", "CommunityInsights", "TestSupport", "P2PCore", "P2PHost", argumentParser, logging,
            ],
            swiftSettings: upcomingFeatures
        ),

        .testTarget(
            name: "PrivacyCoreTests",
            dependencies: ["PrivacyCore", "TestSupport", propertyBased],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "CommunityInsightsTests",
            dependencies: ["CommunityInsights", "PrivacyCore", "TestSupport", propertyBased],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PCoreTests",
            dependencies: ["P2PCore", "TestSupport", nioCore, nioEmbedded],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PNoiseTests",
            dependencies: ["P2PNoise", "P2PCore", nioCore, nioEmbedded, crypto],
            resources: [.copy("Vectors")],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PYamuxTests",
            dependencies: ["P2PYamux", "TestSupport", nioCore, nioEmbedded],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PHostTests",
            dependencies: [
                "P2PHost", "P2PCore", "P2PNoise", "P2PYamux", "TestSupport", nioCore, nioEmbedded, nioPosix,
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PGossipSubTests",
            dependencies: ["P2PGossipSub", "P2PCore", "TestSupport", nioCore],
            swiftSettings: upcomingFeatures
        ),
        // The only tests that open real sockets or start subprocesses (CLI, py-libp2p interop peer, browser).
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["P2PHost", "P2PCore", nioCore, nioPosix],
            resources: [.copy("Interop")],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PhantomTrailCLITests",
            dependencies: ["PhantomTrailCLI", "PrivacyCore", "CommunityInsights", "TestSupport"],
            swiftSettings: upcomingFeatures
        ),
    ]
)
