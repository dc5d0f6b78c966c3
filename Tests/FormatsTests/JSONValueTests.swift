import Formats
import XCTest

final class JSONValueTests: XCTestCase {
    func testKeysKeepTheOrderGiven() {
        let value = JSONValue.object(JSONObject([("z", .integer(1)), ("a", .null), ("m", .bool(false))]))
        XCTAssertEqual(value.render(pretty: false, indent: ""), #"{"z":1,"a":null,"m":false}"#)
    }

    func testPrettyLayout() {
        let value = JSONValue.object(JSONObject([
            ("pair", .string("us-east->eu-west")),
            ("partitions", .array([.integer(0), .integer(1)])),
            ("empty", .array([])),
            ("nested", .object(JSONObject([("ok", .bool(true))]))),
            ("none", .object(JSONObject([]))),
        ]))
        XCTAssertEqual(value.render(pretty: true, indent: ""), """
            {
              "pair": "us-east->eu-west",
              "partitions": [
                0,
                1
              ],
              "empty": [],
              "nested": {
                "ok": true
              },
              "none": {}
            }
            """)
    }

    func testStringsAreEscaped() {
        XCTAssertEqual(JSONValue.quote("plain/text é"), #""plain/text é""#)
        XCTAssertEqual(JSONValue.quote("a\"b\\c\nd\re\tf\u{1}"), #""a\"b\\c\nd\re\tf\u0001""#)
    }

    func testSecondsHaveAtMostThreeDecimals() {
        XCTAssertEqual(JSONValue.seconds(61), "61")
        XCTAssertEqual(JSONValue.seconds(0.25), "0.25")
        XCTAssertEqual(JSONValue.seconds(12.345), "12.345")
        XCTAssertEqual(JSONValue.seconds(12.3456), "12.346")
        XCTAssertEqual(JSONValue.seconds(-0.25), "-0.25")
        XCTAssertEqual(JSONValue.seconds(-1.5), "-1.5")
        XCTAssertEqual(JSONValue.seconds(.infinity), "null")
        XCTAssertEqual(JSONValue.seconds(.nan), "null")
    }
}
