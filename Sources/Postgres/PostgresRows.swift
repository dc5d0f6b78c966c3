/// The complete, decoded result of one statement: column names and text values.
///
/// Values are libpq's text representation of each column; SQL NULL is `nil`.
package struct PostgresRows: Sendable, Equatable {
    /// Column names, in result order.
    package let columns: [String]
    /// Row values, each with one entry per column; SQL NULL is `nil`.
    package let rows: [[String?]]
    /// The number of rows the statement affected (`PQcmdTuples`), when the command reports
    /// one: INSERT, UPDATE, DELETE, MERGE, SELECT, MOVE, FETCH, COPY.
    package let affectedRows: Int?

    /// Creates a result; mostly for tests and for the connection itself.
    package init(columns: [String], rows: [[String?]], affectedRows: Int? = nil) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The number of rows.
    package var count: Int { rows.count }

    /// The position of the column named `name`, or `nil` when the result has no such column.
    package func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }

    /// The value of column `name` in row `row`; `nil` for SQL NULL.
    ///
    /// A row index out of range or a column name not in ``columns`` is a programming error
    /// and traps, like an array index out of range; use ``columnIndex(_:)`` to check first.
    package subscript(row row: Int, column name: String) -> String? {
        guard let index = columnIndex(name) else {
            preconditionFailure("result has no column \"\(name)\"; columns are \(columns)")
        }
        return rows[row][index]
    }
}
