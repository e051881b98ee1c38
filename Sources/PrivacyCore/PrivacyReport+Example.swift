import Foundation

extension PrivacyReport {
    /// The repository's example report (examples/report.json) as JSON text, built in so that the demo runs from any
    /// directory and tests need not read files outside their target. A CLI test checks that it matches the file.
    public static let exampleJSON = """
        {
          "score": 92,
          "events": [
            {
              "tracker_domain": "doubleclick.net",
              "tracker_category": "advertising",
              "risk_level": "high",
              "site_category": "news",
              "time": "2026-11-16T08:12:40Z"
            },
            {
              "tracker_domain": "google-analytics.com",
              "tracker_category": "analytics",
              "risk_level": "medium",
              "site_category": "news",
              "time": "2026-11-16T08:12:41Z"
            },
            {
              "tracker_domain": "scorecardresearch.com",
              "tracker_category": "analytics",
              "risk_level": "medium",
              "site_category": "news",
              "time": "2026-11-16T19:03:05Z"
            },
            {
              "tracker_domain": "connect.facebook.net",
              "tracker_category": "social",
              "risk_level": "high",
              "site_category": "social",
              "time": "2026-11-17T07:45:10Z"
            },
            {
              "tracker_domain": "googletagmanager.com",
              "tracker_category": "analytics",
              "risk_level": "low",
              "site_category": "technology",
              "time": "2026-11-17T10:20:00Z"
            },
            {
              "tracker_domain": "cdn.segment.com",
              "tracker_category": "analytics",
              "risk_level": "medium",
              "site_category": "technology",
              "time": "2026-11-17T10:21:33Z"
            },
            {
              "tracker_domain": "hotjar.com",
              "tracker_category": "session_replay",
              "risk_level": "high",
              "site_category": "shopping",
              "time": "2026-11-18T12:02:17Z"
            },
            {
              "tracker_domain": "criteo.com",
              "tracker_category": "advertising",
              "risk_level": "medium",
              "site_category": "shopping",
              "time": "2026-11-18T12:02:19Z"
            },
            {
              "tracker_domain": "amazon-adsystem.com",
              "tracker_category": "advertising",
              "risk_level": "medium",
              "site_category": "shopping",
              "time": "2026-11-18T12:05:48Z"
            },
            {
              "tracker_domain": "fonts.googleapis.com",
              "tracker_category": "other",
              "risk_level": "low",
              "site_category": "reference",
              "time": "2026-11-18T15:30:00Z"
            },
            {
              "tracker_domain": "bat.bing.com",
              "tracker_category": "advertising",
              "risk_level": "medium",
              "site_category": "search",
              "time": "2026-11-19T09:00:12Z"
            },
            {
              "tracker_domain": "platform.twitter.com",
              "tracker_category": "social",
              "risk_level": "low",
              "site_category": "social",
              "time": "2026-11-19T18:44:02Z"
            },
            {
              "tracker_domain": "quantserve.com",
              "tracker_category": "data_broker",
              "risk_level": "high",
              "site_category": "entertainment",
              "time": "2026-11-19T21:10:55Z"
            },
            {
              "tracker_domain": "fingerprintjs.com",
              "tracker_category": "fingerprinting",
              "risk_level": "critical",
              "site_category": "finance",
              "time": "2026-11-20T10:15:00Z"
            },
            {
              "tracker_domain": "newrelic.com",
              "tracker_category": "analytics",
              "risk_level": "low",
              "site_category": "technology",
              "time": "2026-11-20T11:02:30Z"
            },
            {
              "tracker_domain": "adnxs.com",
              "tracker_category": "advertising",
              "risk_level": "medium",
              "site_category": "news",
              "time": "2026-11-21T07:55:00Z"
            },
            {
              "tracker_domain": "doubleclick.net",
              "tracker_category": "advertising",
              "risk_level": "high",
              "site_category": "news",
              "time": "2026-11-21T08:01:12Z"
            },
            {
              "tracker_domain": "sentry.io",
              "tracker_category": "analytics",
              "risk_level": "low",
              "site_category": "technology",
              "time": "2026-11-21T14:40:09Z"
            },
            {
              "tracker_domain": "webmd-ads.example",
              "tracker_category": "advertising",
              "risk_level": "medium",
              "site_category": "health",
              "time": "2026-11-22T16:20:45Z"
            },
            {
              "tracker_domain": "google-analytics.com",
              "tracker_category": "analytics",
              "risk_level": "medium",
              "site_category": "travel",
              "time": "2026-11-22T20:05:31Z"
            }
          ],
          "tools": [
            "ublock_origin",
            "privacy_badger",
            "firefox_strict_tracking_protection"
          ],
          "region": "europe"
        }
        """

    /// The decoded example report.
    public static func example() throws -> PrivacyReport {
        try PrivacyReport(jsonData: Data(Self.exampleJSON.utf8))
    }
}
