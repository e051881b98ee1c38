import Foundation
import NodeRuntime
import Testing

@Suite("Native host installation")
struct NativeHostInstallerTests {
    private static let chromeID = "abcdefghijklmnopabcdefghijklmnop"
    private static let firefoxID = "phantom-trail@example.org"

    @Test(
        "Installing writes the manifest where each browser looks and a launcher for the host",
        arguments: [
            (NativeHostInstaller.Browser.chrome, "/.config/google-chrome/NativeMessagingHosts"),
            (.chromium, "/.config/chromium/NativeMessagingHosts"),
            (.firefox, "/.mozilla/native-messaging-hosts"),
        ]
    )
    func installsOnLinux(browser: NativeHostInstaller.Browser, folder: String) throws {
        let home = try TemporaryDirectory()
        let id = browser == .firefox ? Self.firefoxID : Self.chromeID
        let plan = try NativeHostInstaller.plan(
            browser: browser,
            extensionID: id,
            executablePath: "/opt/phantom trail/bin/phantom-trail",
            dataDirectory: "/data/it's mine",
            launcherDirectory: home.path + "/data/native-host",
            home: home.path,
            platform: .linux
        )
        #expect(plan.manifestPath == home.path + folder + "/com.phantomtrail.community.json")
        #expect(!FileManager.default.fileExists(atPath: plan.manifestPath))  // planning writes nothing
        try NativeHostInstaller.install(plan)

        let manifest = try NativeJSON(parsing: [UInt8](Data(contentsOf: URL(fileURLWithPath: plan.manifestPath))))
        #expect(manifest["name"] == .string("com.phantomtrail.community"))
        #expect(manifest["type"] == .string("stdio"))
        #expect(manifest["path"] == .string(plan.launcherPath))
        if browser == .firefox {
            #expect(manifest["allowed_extensions"] == .array([.string(id)]))
            #expect(manifest["allowed_origins"] == nil)
        } else {
            #expect(manifest["allowed_origins"] == .array([.string("chrome-extension://\(id)/")]))
            #expect(manifest["allowed_extensions"] == nil)
        }
        #expect(try permissions(plan.manifestPath) == 0o644)
        #expect(try permissions(plan.launcherPath) == 0o700)
        let launcher = try String(contentsOfFile: plan.launcherPath, encoding: .utf8)
        #expect(launcher.hasPrefix("#!/bin/sh\n"))
        #expect(
            launcher.contains(
                #"exec '/opt/phantom trail/bin/phantom-trail' native-host --data-dir '/data/it'\''s mine'"#
            )
        )
    }

    @Test("macOS manifest locations")
    func macOSLocations() {
        let home = "/Users/ada"
        #expect(
            NativeHostInstaller.manifestDirectory(for: .chrome, home: home, platform: .macOS)
                == "/Users/ada/Library/Application Support/Google/Chrome/NativeMessagingHosts"
        )
        #expect(
            NativeHostInstaller.manifestDirectory(for: .chromium, home: home, platform: .macOS)
                == "/Users/ada/Library/Application Support/Chromium/NativeMessagingHosts"
        )
        #expect(
            NativeHostInstaller.manifestDirectory(for: .firefox, home: home, platform: .macOS)
                == "/Users/ada/Library/Application Support/Mozilla/NativeMessagingHosts"
        )
    }

    @Test("Extension IDs are checked per browser")
    func extensionIDs() throws {
        try NativeHostInstaller.validateExtensionID(Self.chromeID, for: .chromium)
        try NativeHostInstaller.validateExtensionID(Self.firefoxID, for: .firefox)
        try NativeHostInstaller.validateExtensionID("{12345678-1234-1234-1234-123456789abc}", for: .firefox)
        let bad: [(String, NativeHostInstaller.Browser)] = [
            ("abcdefghijklmnopabcdefghijklmnoq", .chrome), ("short", .chrome), (Self.firefoxID, .chrome),
            ("no-at-sign", .firefox), ("a@b\"; rm", .firefox), ("", .firefox),
        ]
        for (id, browser) in bad {
            #expect(throws: NodeRuntimeError(.invalidInstallation, ""), "\(id)") {
                try NativeHostInstaller.validateExtensionID(id, for: browser)
            }
        }
    }
}
