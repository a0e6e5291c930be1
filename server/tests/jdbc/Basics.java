// JDBC (PostgreSQL's driver, Debian's libpostgresql-jdbc-java) against `hdb serve`, run by
// tests/jdbc.rs as `java -cp postgresql.jar Basics.java URL`: DDL, PreparedStatement
// inserts and selects with a parameter of each plainly mapped type, the switch to named
// server-side statements after prepareThreshold executions, a rolled-back transaction,
// an error's SQLSTATE, and the driver's metadata queries (getTables, getColumns, which
// read pg_catalog). What it prints is compared with tests/jdbc/basics.out.
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.UUID;

public class Basics {
    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], "tester", "")) {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, big BIGINT, name TEXT, "
                        + "ok BOOLEAN, score DOUBLE PRECISION, price NUMERIC(10,2), born DATE, "
                        + "seen TIMESTAMP, data BYTEA, tag UUID)");
            }
            String insert = "INSERT INTO things VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            // Seven rows: past the driver's prepareThreshold (5), so the later ones go
            // through a named server-side statement.
            try (PreparedStatement ps = conn.prepareStatement(insert)) {
                for (int i = 1; i <= 7; i++) {
                    ps.setInt(1, i);
                    ps.setLong(2, 10_000_000_000L * i);
                    ps.setString(3, "name " + i + (i == 2 ? " 'quoted'" : ""));
                    ps.setBoolean(4, i % 2 == 0);
                    ps.setDouble(5, i / 4.0);
                    ps.setBigDecimal(6, new BigDecimal("12.34").multiply(BigDecimal.valueOf(i)));
                    ps.setDate(7, Date.valueOf("2024-02-" + (20 + i)));
                    ps.setTimestamp(8, Timestamp.valueOf("2024-05-06 07:08:0" + i + ".5"));
                    ps.setBytes(9, new byte[] {0, (byte) i, (byte) 0xff});
                    ps.setObject(10, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1" + i));
                    ps.executeUpdate();
                }
                ps.setInt(1, 8);
                for (int p = 2; p <= 10; p++) {
                    ps.setNull(p, java.sql.Types.NULL);
                }
                ps.executeUpdate();
            }
            String select = "SELECT id, big, name, ok, score, price, born, seen, data, tag "
                    + "FROM things WHERE id >= ? AND (name IS NULL OR name <> ?) ORDER BY id";
            try (PreparedStatement ps = conn.prepareStatement(select)) {
                for (int run = 1; run <= 6; run++) {
                    ps.setInt(1, 7);
                    ps.setString(2, "none");
                    try (ResultSet rs = ps.executeQuery()) {
                        if (run == 6) {
                            print(rs);
                        }
                    }
                }
            }
            // One parameter of each type, each in a WHERE clause.
            String[] where = {"big = ?", "ok = ?", "score = ?", "price = ?", "born = ?", "seen = ?",
                "data = ?", "tag = ?"};
            for (String condition : where) {
                try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT id FROM things WHERE " + condition + " ORDER BY id")) {
                    switch (condition) {
                        case "big = ?" -> ps.setLong(1, 20_000_000_000L);
                        case "ok = ?" -> ps.setBoolean(1, true);
                        case "score = ?" -> ps.setDouble(1, 0.75);
                        case "price = ?" -> ps.setBigDecimal(1, new BigDecimal("49.36"));
                        case "born = ?" -> ps.setDate(1, Date.valueOf("2024-02-25"));
                        case "seen = ?" -> ps.setTimestamp(1, Timestamp.valueOf("2024-05-06 07:08:06.5"));
                        case "data = ?" -> ps.setBytes(1, new byte[] {0, 7, (byte) 0xff});
                        default -> ps.setObject(1, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"));
                    }
                    StringBuilder ids = new StringBuilder();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            ids.append(' ').append(rs.getInt(1));
                        }
                    }
                    System.out.println(condition + ":" + ids);
                }
            }
            // A transaction rolled back leaves nothing behind.
            conn.setAutoCommit(false);
            try (PreparedStatement ps = conn.prepareStatement("UPDATE things SET name = ? WHERE id = ?")) {
                ps.setString(1, "changed");
                ps.setInt(2, 1);
                System.out.println("updated " + ps.executeUpdate());
            }
            conn.rollback();
            conn.setAutoCommit(true);
            try (PreparedStatement ps = conn.prepareStatement("SELECT name FROM things WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    System.out.println("after rollback: " + rs.getString(1));
                }
            }
            // Errors carry PostgreSQL's SQLSTATE.
            String[] failing = {"INSERT INTO things (id) VALUES (1)", "SELECT * FROM nowhere",
                "SELECT 1/0", "SELEC 1"};
            for (String sql : failing) {
                try (Statement st = conn.createStatement()) {
                    st.execute(sql);
                    System.out.println(sql + ": succeeded");
                } catch (SQLException e) {
                    System.out.println(sql + ": " + e.getSQLState());
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM things WHERE id > ?")) {
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    System.out.println("count " + rs.getLong(1));
                }
            }
            // The driver's metadata queries read pg_catalog.
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println(meta.getDatabaseProductName() + " " + meta.getDatabaseMajorVersion());
            try (ResultSet rs = meta.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    System.out.println("table " + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet rs = meta.getColumns(null, "public", "things", "%")) {
                while (rs.next()) {
                    System.out.println("column " + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME")
                            + " " + rs.getInt("DATA_TYPE") + " " + rs.getInt("COLUMN_SIZE") + " "
                            + rs.getString("IS_NULLABLE") + " " + rs.getString("COLUMN_DEF"));
                }
            }
        }
    }

    private static void print(ResultSet rs) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        StringBuilder header = new StringBuilder();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
            // Not the integer columns' types: hdb reports every integer column as int8.
            String type = meta.getColumnTypeName(c);
            header.append(c > 1 ? " | " : "").append(meta.getColumnName(c))
                    .append(type.startsWith("int") ? "" : ":" + type);
        }
        System.out.println(header);
        while (rs.next()) {
            StringBuilder row = new StringBuilder();
            row.append(rs.getInt("id")).append(" | ").append(rs.getObject("big"))
                    .append(" | ").append(rs.getString("name")).append(" | ").append(rs.getObject("ok"))
                    .append(" | ").append(rs.getObject("score")).append(" | ").append(rs.getBigDecimal("price"))
                    .append(" | ").append(rs.getDate("born")).append(" | ").append(rs.getTimestamp("seen"))
                    .append(" | ").append(hex(rs.getBytes("data"))).append(" | ").append(rs.getObject("tag"));
            System.out.println(row);
        }
    }

    private static String hex(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        StringBuilder s = new StringBuilder("\\x");
        for (byte b : bytes) {
            s.append(String.format("%02x", b));
        }
        return s.toString();
    }
}
