// Allocation churn on the JVM: the bottleneck is known by construction.
//
// Two request threads each build 400 short-lived rows per request (a record, a list of tags, a
// few strings), and the last 512 requests' rows are kept, so every young collection has live
// objects to copy and the old generation fills and is collected too: G1's GC threads take a
// large share of the CPU, collecting what buildRows allocates. No lock is contended (each
// thread keeps its own window), nothing waits.
//
// Usage: javac -d OUT AllocChurn.java && java -cp OUT corpus.AllocChurn [seconds]  (default 6 s)
package corpus;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

public class AllocChurn {
    record Row(String name, long id, double score, List<String> tags) {}

    static List<Row> buildRows(int request) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            List<String> tags = new ArrayList<>();
            tags.add("tag-" + (i % 7));
            tags.add(Integer.toString(request + i));
            rows.add(new Row("row-" + i + "-" + request, i, i * 1.5, tags));
        }
        return rows;
    }

    static long serve(long end) {
        ArrayDeque<List<Row>> kept = new ArrayDeque<>();
        long n = 0;
        int request = 0;
        while (System.nanoTime() < end) {
            List<Row> rows = buildRows(request++);
            kept.addLast(rows);
            if (kept.size() > 256) kept.removeFirst();
            n += rows.size();
        }
        return n;
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 6.0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        Thread[] workers = new Thread[2];
        long[] served = new long[workers.length];
        for (int t = 0; t < workers.length; t++) {
            final int me = t;
            workers[t] = new Thread(() -> served[me] = serve(end), "request-" + t);
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        System.out.println(served[0] + served[1]);
    }
}
