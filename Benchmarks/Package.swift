// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "phantom-trail-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "phantom-trail-community", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "PhantomTrailBenchmarks",
            dependencies: [
                .product(name: "CommunityInsights", package: "phantom-trail-community"),
                .product(name: "PrivacyCore", package: "phantom-trail-community"),
                .product(name: "TestSupport", package: "phantom-trail-community"),
                .product(name: "P2PCore", package: "phantom-trail-community"),
                .product(name: "P2PNoise", package: "phantom-trail-community"),
                .product(name: "P2PYamux", package: "phantom-trail-community"),
                .product(name: "P2PHost", package: "phantom-trail-community"),
                .product(name: "P2PGossipSub", package: "phantom-trail-community"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        )
    ]
)
