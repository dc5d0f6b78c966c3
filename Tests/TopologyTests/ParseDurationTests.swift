import Topology
import XCTest

final class ParseDurationTests: XCTestCase {
    func testValidDurations() {
        XCTAssertEqual(parseDuration("250ms"), .milliseconds(250))
        XCTAssertEqual(parseDuration("5s"), .seconds(5))
        XCTAssertEqual(parseDuration("2m"), .seconds(120))
        XCTAssertEqual(parseDuration("1h"), .seconds(3600))
        XCTAssertEqual(parseDuration("1m30s"), .seconds(90))
        XCTAssertEqual(parseDuration("1h2m3s4ms"), .milliseconds(3_723_004))
        XCTAssertEqual(parseDuration("0s"), .zero)
        XCTAssertEqual(parseDuration("007s"), .seconds(7))
    }

    func testInvalidDurations() {
        for text in ["", "5", "s", "ms", "5x", "5S", "-5s", "+5s", " 5s", "5s ", "5 s", "1.5s", "5sm", "1m30", "٣s",
                     "99999999999999999999s", "9223372036854775807h", "5124095576030431h5124095576030431h"] {
            XCTAssertNil(parseDuration(text), text)
        }
    }
}
