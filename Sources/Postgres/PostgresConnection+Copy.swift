import CLibPQ
import Foundation

extension PostgresConnection {
    /// Runs a `COPY … FROM STDIN` statement (text format) and streams the rows that `body` appends,
    /// so memory stays at one buffer (`flushBytes`) whatever the number of rows.
    ///
    /// Runs inside whatever transaction is open on this connection. When `body` throws, the COPY is
    /// ended with an error (the server discards every row of this COPY) and `body`'s error is rethrown.
    ///
    /// - Returns: the number of rows the server stored.
    /// - Throws: ``PostgresError`` when the server rejects the statement or a row, or whatever `body` throws.
    package func copyIn(
        _ sql: String, flushBytes: Int = 1 << 20, _ body: (PostgresCopyWriter) throws -> Void
    ) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        guard !isStreaming else {
            throw PostgresError(
                kind: .query, message: "connection is busy streaming a result; use another connection", dsn: redactedDSN)
        }
        let start = PQexec(conn, sql)
        let status = start.map(PQresultStatus)
        guard status == PGRES_COPY_IN else {
            defer { PQclear(start) }
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                throw PostgresError(kind: .query, message: "copyIn needs a COPY ... FROM STDIN statement", dsn: redactedDSN)
            }
            throw error(from: start)
        }
        PQclear(start)

        let writer = PostgresCopyWriter(flushBytes: flushBytes) { [conn] bytes in
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) == 1 }
            }
        }
        var failure: (any Error)?
        do {
            try body(writer)
            if !writer.flush() { failure = error(from: nil) }
        } catch is PostgresCopyAborted {
            failure = self.error(from: nil)
        } catch {
            failure = error
        }
        let reason = failure.map { "aborted by client: \($0)" }
        _ = PQputCopyEnd(conn, reason)
        var serverError: PostgresError?
        var stored = 0
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                stored = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
            } else if serverError == nil {
                serverError = error(from: result)
            }
        }
        if let failure { throw failure }
        if let serverError { throw serverError }
        return stored
    }
}

/// Appends rows to a running `COPY … FROM STDIN` in PostgreSQL's text format; see
/// ``PostgresConnection/copyIn(_:flushBytes:_:)``. Only valid inside that call.
package final class PostgresCopyWriter {
    private var buffer: [UInt8] = []
    private let flushBytes: Int
    private let send: ([UInt8]) -> Bool
    private var failed = false

    init(flushBytes: Int, send: @escaping ([UInt8]) -> Bool) {
        self.flushBytes = flushBytes
        self.send = send
        buffer.reserveCapacity(flushBytes + 4096)
    }

    /// Appends one row; `nil` is SQL NULL. Text is escaped for the COPY text format.
    package func append(_ fields: [String?]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            if let field {
                PostgresCopyWriter.escape(field, into: &buffer)
            } else {
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= flushBytes, !flush() {
            throw PostgresCopyAborted()
        }
    }

    /// Sends what is buffered; false when libpq could not.
    func flush() -> Bool {
        guard !failed else { return false }
        if !buffer.isEmpty {
            failed = !send(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        return !failed
    }

    /// `text` in the COPY text format: backslash, tab, newline and carriage return escaped.
    static func escape(_ text: String, into buffer: inout [UInt8]) {
        let utf8 = text.utf8
        if !utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            buffer.append(contentsOf: utf8)
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }
}

/// libpq refused COPY data (the connection is gone); the COPY's own error follows.
struct PostgresCopyAborted: Error, CustomStringConvertible {
    var description: String { "could not send COPY data" }
}
