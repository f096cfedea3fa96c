// Threads contending on one synchronized block: the bottleneck is known by construction.
//
// 8 request threads loop on Ledger.record(), which takes one monitor (synchronized on LOCK)
// around 2 ms of work done while holding it; the others are BLOCKED on that monitor. Beside
// them, an idle ExecutorService of 4 threads waits for tasks that never come (benign WAITING),
// and main waits in Thread.join (benign).
//
// Usage: java LockContention.java [seconds]   (stops by itself; default 6 s)
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

public class LockContention {
    static final Object LOCK = new Object();
    static long total;

    static final class Ledger {
        static long record(long value) {
            synchronized (LOCK) {
                long deadline = System.nanoTime() + 2_000_000L; // 2 ms inside the lock
                long x = value;
                while (System.nanoTime() < deadline) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
                total += x & 1;
                return x;
            }
        }
    }

    static void handleRequest(long id) {
        long key = id * 31 + 7; // a little work outside the lock
        Ledger.record(key);
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 6.0;
        long stopAt = System.nanoTime() + (long) (seconds * 1e9);
        ExecutorService idlePool = Executors.newFixedThreadPool(4);
        for (int i = 0; i < 4; i++) {
            idlePool.submit(() -> { });  // starts the pool's threads; then they wait for work
        }
        Thread[] workers = new Thread[8];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(() -> {
                long id = 0;
                while (System.nanoTime() < stopAt) {
                    handleRequest(id++);
                }
            }, "request-" + i);
            workers[i].start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        idlePool.shutdown();
        System.out.println("records: " + total);
    }
}
