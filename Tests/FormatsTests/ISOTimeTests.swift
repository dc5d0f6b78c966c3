import Formats
import Foundation
import XCTest

final class ISOTimeTests: XCTestCase {
    func testWholeSecondsHaveNoFraction() {
        XCTAssertEqual(ISOTime.string(milliseconds: 1_769_860_800_000), "2026-01-31T12:00:00Z")
        XCTAssertEqual(ISOTime.string(milliseconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(ISOTime.string(Date(timeIntervalSince1970: 951_782_400)), "2000-02-29T00:00:00Z")
    }

    func testMillisecondsAreWrittenWithThreeDigits() {
        XCTAssertEqual(ISOTime.string(milliseconds: 1_769_860_800_007), "2026-01-31T12:00:00.007Z")
        XCTAssertEqual(ISOTime.string(milliseconds: 1_769_860_800_120), "2026-01-31T12:00:00.120Z")
        XCTAssertEqual(ISOTime.string(milliseconds: 1_769_860_859_999), "2026-01-31T12:00:59.999Z")
    }

    func testTimesBeforeTheEpochRoundDown() {
        XCTAssertEqual(ISOTime.string(milliseconds: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(ISOTime.string(milliseconds: -1000), "1969-12-31T23:59:59Z")
        XCTAssertEqual(ISOTime.string(Date(timeIntervalSince1970: -0.5)), "1969-12-31T23:59:59.500Z")
    }

    func testDatesKeepTheirMilliseconds() {
        // 1769860800.123 is not exact in binary; the millisecond must survive anyway.
        XCTAssertEqual(ISOTime.string(Date(timeIntervalSince1970: 1_769_860_800.123)), "2026-01-31T12:00:00.123Z")
    }

    func testParsesWhatItWrites() throws {
        for milliseconds: Int64 in [0, 1_769_860_800_000, 1_769_860_800_007, 1_769_860_859_999] {
            let date = try XCTUnwrap(ISOTime.date(ISOTime.string(milliseconds: milliseconds)), "\(milliseconds)")
            XCTAssertEqual(Int64((date.timeIntervalSince1970 * 1000).rounded()), milliseconds)
        }
    }

    func testRejectsOtherText() {
        for text in ["", "yesterday", "2026-01-31", "2026-01-31 12:00:00", "2026-13-01T00:00:00Z", "1769860800"] {
            XCTAssertNil(ISOTime.date(text), text)
        }
    }
}
