import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// One blocking HTTP GET of `url` (a new connection each time); the status and the body as text.
///
/// - Throws: ``FixtureError`` when nothing answers within `timeout`.
package func httpGet(_ url: String, timeout: Duration = .seconds(5)) throws -> (status: Int, body: String) {
    guard let address = URL(string: url) else { throw FixtureError("bad URL \(url)") }
    let result = Mutex<Result<(Int, String), FixtureError>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout.timeInterval
    let session = URLSession(configuration: configuration)
    defer { session.finishTasksAndInvalidate() }
    let task = session.dataTask(with: address) { data, response, error in
        let outcome: Result<(Int, String), FixtureError>
        if let response = response as? HTTPURLResponse, let data {
            outcome = .success((response.statusCode, String(decoding: data, as: UTF8.self)))
        } else {
            outcome = .failure(FixtureError("GET \(url): \(error.map { "\($0)" } ?? "no response")"))
        }
        result.withLock { $0 = outcome }
        done.signal()
    }
    task.resume()
    if done.wait(timeout: .now() + timeout.timeInterval + 1) == .timedOut {
        task.cancel()
        throw FixtureError("GET \(url): no answer within \(timeout)")
    }
    return try result.withLock { $0! }.get()
}
