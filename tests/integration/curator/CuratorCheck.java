/*
 * CuratorCheck: drive a ZooKeeper-compatible server with Apache Curator the
 * way a Java shop uses it, and assert exact results.
 *
 *   java -cp <classes>:<jars> CuratorCheck [--containers H:P] 127.0.0.1:2181 [check ...]
 *   java -cp <classes>:<jars> CuratorCheck --list
 *
 * Prints one line per check, "PASS <name>" or "FAIL <name>: <reason>", and
 * exits 1 if any check failed (2 on a usage error). Diagnostics go to stderr,
 * between "== <name>" and "-- <name>: <ms> ms" for each check.
 *
 * Written against Curator 5.4 (Debian libcurator-*-java) and the ZooKeeper
 * 3.8 client. Every check works under its own node below a unique base path
 * (/curator-check-<random>), so the program can run against a shared server;
 * the base is deleted at the end. Nothing is awaited with a sleep: watches,
 * listeners and latches are awaited with a bound (TIMEOUT_MS), and a
 * negative result ("the second client must not get the lock") is asked with
 * a short timeout only where the answer cannot change during that time.
 *
 * The check "create-parent-containers" waits for the server's container
 * reaper: it needs a server with znode.container.checkIntervalMs <= 1000
 * (or raise -Dcuratorcheck.reapTimeoutMs). "--containers H:P" runs that
 * check against such a server while the rest use the main one: a fast
 * reaper would delete the recipes' empty container nodes under their feet
 * at any moment (which Curator survives, but exact assertions about those
 * nodes would race).
 *
 * Ordering of notifications: ZooKeeper delivers the notifications of one
 * connection in zxid order, before any later reply, and the client runs
 * watchers in that order on one event thread. So "no further event arrived"
 * is proved by triggering a sentinel event afterwards and checking that it
 * is the next one recorded.
 */

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.api.CuratorListener;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.imps.GzipCompressionProvider;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class CuratorCheck {

    static final long TIMEOUT_MS = 10_000;
    /** Bound for one whole check; a check that hangs is reported and skipped. */
    static final long CHECK_TIMEOUT_MS = 40_000;
    /** A "this must not happen" wait where the state cannot change meanwhile. */
    static final long SHORT_MS = 200;
    static final long REAP_TIMEOUT_MS = Long.getLong("curatorcheck.reapTimeoutMs", 10_000);
    /** The server's tickTime: session timeouts are negotiated into
     *  [2, 20] ticks (the pytest servers use ZooKeeper's default 2000). */
    static final int TICK_MS = Integer.getInteger("curatorcheck.tickTime", 2000);

    static String connect;
    /** Server for "create-parent-containers" (--containers), else connect. */
    static String containersConnect;

    // ------------------------------------------------------------------
    // Framework: a check is a named body run with a Ctx.
    // ------------------------------------------------------------------

    interface Body {
        void run(Ctx c) throws Exception;
    }

    static final Map<String, Body> CHECKS = new LinkedHashMap<>();

    static void register(String name, Body body) {
        CHECKS.put(name, body);
    }

    /** Thrown when an assertion fails; the message is the FAIL reason. */
    static class CheckFailed extends RuntimeException {
        CheckFailed(String msg) {
            super(msg);
        }
    }

    /** Per-check context: the shared client, a private directory, and
     *  everything to close when the check ends (in reverse order). */
    static class Ctx {
        final CuratorFramework client;
        final String dir;
        final List<AutoCloseable> closers = new ArrayList<>();

        Ctx(CuratorFramework client, String dir) {
            this.client = client;
            this.dir = dir;
        }

        String path(String rel) {
            return dir + "/" + rel;
        }

        String rel(String path) {
            if (path == null) return "null";
            if (path.equals(dir)) return ".";
            if (path.startsWith(dir + "/")) return path.substring(dir.length() + 1);
            return path;
        }

        <T extends AutoCloseable> T defer(T c) {
            closers.add(c);
            return c;
        }

        CuratorFramework newClient() throws Exception {
            return newClient(b -> { });
        }

        CuratorFramework newClient(Consumer<CuratorFrameworkFactory.Builder> cfg) throws Exception {
            return defer(startClient(cfg));
        }

        CuratorFramework newClient(String connectString, Consumer<CuratorFrameworkFactory.Builder> cfg)
                throws Exception {
            return defer(startClient(connectString, cfg));
        }

        void closeAll() {
            for (int i = closers.size() - 1; i >= 0; i--) {
                try {
                    closers.get(i).close();
                } catch (Exception e) {
                    System.err.println("close: " + e);
                }
            }
            closers.clear();
        }
    }

    static CuratorFrameworkFactory.Builder builder() {
        return builder(connect);
    }

    static CuratorFrameworkFactory.Builder builder(String connectString) {
        return CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .sessionTimeoutMs(30_000)
                .connectionTimeoutMs((int) TIMEOUT_MS);
    }

    static CuratorFramework startClient(Consumer<CuratorFrameworkFactory.Builder> cfg) throws Exception {
        return startClient(connect, cfg);
    }

    static CuratorFramework startClient(String connectString, Consumer<CuratorFrameworkFactory.Builder> cfg)
            throws Exception {
        CuratorFrameworkFactory.Builder b = builder(connectString);
        cfg.accept(b);
        CuratorFramework c = b.build();
        c.start();
        if (!c.blockUntilConnected((int) TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            c.close();
            throw new CheckFailed("client did not connect to " + connectString + " within " + TIMEOUT_MS + " ms");
        }
        return c;
    }

    // ------------------------------------------------------------------
    // Assertions
    // ------------------------------------------------------------------

    static CheckFailed fail(String msg) {
        return new CheckFailed(msg);
    }

    static String show(Object o) {
        if (o instanceof byte[]) {
            byte[] b = (byte[]) o;
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < b.length && i < 48; i++) hex.append(String.format("%02x", b[i]));
            if (b.length > 48) hex.append("...");
            return "bytes[" + b.length + "]\"" + s(b) + "\"(0x" + hex + ")";
        }
        if (o instanceof Stat) return statStr((Stat) o);
        if (o instanceof String) return "\"" + o + "\"";
        return String.valueOf(o);
    }

    static String statStr(Stat st) {
        if (st == null) return "null";
        return String.format("Stat{czxid=%#x mzxid=%#x pzxid=%#x ver=%d cver=%d aver=%d eph=%#x len=%d kids=%d}",
                st.getCzxid(), st.getMzxid(), st.getPzxid(), st.getVersion(), st.getCversion(),
                st.getAversion(), st.getEphemeralOwner(), st.getDataLength(), st.getNumChildren());
    }

    static void eq(Object expected, Object actual, String what) {
        boolean same = (expected instanceof byte[] && actual instanceof byte[])
                ? Arrays.equals((byte[]) expected, (byte[]) actual)
                : Objects.equals(expected, actual);
        if (!same) throw fail(what + ": expected " + show(expected) + ", got " + show(actual));
    }

    static void check(boolean cond, String what) {
        if (!cond) throw fail(what);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Runs r, which must throw exactly `cls` (a KeeperException subclass
     *  also with code `code` and, if path != null, getPath() == path). */
    static <E extends Exception> E expectThrows(Class<E> cls, KeeperException.Code code, String path,
                                                String what, ThrowingRunnable r) {
        try {
            r.run();
        } catch (Exception e) {
            if (e.getClass() != cls)
                throw fail(what + ": expected " + cls.getSimpleName() + ", got " + e);
            if (e instanceof KeeperException) {
                KeeperException ke = (KeeperException) e;
                if (code != null && ke.code() != code)
                    throw fail(what + ": expected code " + code + ", got " + ke.code());
                if (path != null && !path.equals(ke.getPath()))
                    throw fail(what + ": expected exception path " + path + ", got " + ke.getPath());
            }
            return cls.cast(e);
        }
        throw fail(what + ": expected " + cls.getSimpleName() + ", but it succeeded");
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    static List<String> sorted(Collection<String> c) {
        List<String> l = new ArrayList<>(c);
        Collections.sort(l);
        return l;
    }

    /** A thread-safe log of events that tests pull from in order. */
    static class Recorder {
        final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        final List<String> all = Collections.synchronizedList(new ArrayList<>());

        void add(String e) {
            all.add(e);
            queue.add(e);
        }

        String next(String waitingFor) throws InterruptedException {
            String e = queue.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (e == null)
                throw fail("no event within " + TIMEOUT_MS + " ms while waiting for " + waitingFor
                        + " (events so far: " + all + ")");
            return e;
        }

        void expect(String expected) throws InterruptedException {
            String got = next(expected);
            if (!expected.equals(got))
                throw fail("expected event [" + expected + "], got [" + got + "] (events so far: " + all + ")");
        }

        List<String> snapshot() {
            synchronized (all) {
                return new ArrayList<>(all);
            }
        }
    }

    /** Waits (watch-driven) until the children of `path` satisfy `cond`. */
    static List<String> awaitChildren(CuratorFramework c, String path, Predicate<List<String>> cond,
                                      String what) throws Exception {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        List<String> kids = null;
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            Watcher w = e -> changed.countDown();
            try {
                kids = c.getChildren().usingWatcher(w).forPath(path);
                if (cond.test(kids)) return kids;
            } catch (KeeperException.NoNodeException e) {
                // Recipes keep their nodes under containers, which the
                // server may reap once empty: a missing node has no children.
                kids = List.of();
                if (cond.test(kids)) return kids;
                if (c.checkExists().usingWatcher(w).forPath(path) != null) continue;
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0 || !changed.await(left, TimeUnit.MILLISECONDS))
                throw fail("timed out waiting for " + what + " (children of " + path + ": " + kids + ")");
        }
    }

    /** Children of a recipe's container node, which the server's reaper
     *  may already have deleted once it became empty: then []. */
    static List<String> childrenOrReaped(CuratorFramework c, String path) throws Exception {
        try {
            return c.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** Waits (watch-driven) until `path` does not exist. */
    static void awaitGone(CuratorFramework c, String path, long timeoutMs, String what) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            Stat st = c.checkExists().usingWatcher((Watcher) e -> changed.countDown()).forPath(path);
            if (st == null) return;
            long left = deadline - System.currentTimeMillis();
            if (left <= 0 || !changed.await(left, TimeUnit.MILLISECONDS))
                throw fail("timed out after " + timeoutMs + " ms waiting for " + what);
        }
    }

    /** Waits until thread t is parked in a timed wait (e.g. a recipe waiting
     *  on its watch), so that a following event cannot be missed by it. */
    static void awaitTimedWaiting(Thread t, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING) {
            if (!t.isAlive()) return;
            if (System.currentTimeMillis() > deadline) throw fail("timed out waiting for " + what);
            Thread.sleep(2); // polling a thread's state: there is no event for it
        }
    }

    static Thread thread(String name, ThrowingRunnable r, AtomicReference<Throwable> err) {
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                err.compareAndSet(null, e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    static void join(Thread t, AtomicReference<Throwable> err) throws Exception {
        t.join(TIMEOUT_MS);
        if (t.isAlive()) throw fail("thread " + t.getName() + " did not finish within " + TIMEOUT_MS + " ms");
        rethrow(err);
    }

    static void rethrow(AtomicReference<Throwable> err) throws Exception {
        Throwable e = err.get();
        if (e instanceof Exception) throw (Exception) e;
        if (e instanceof Error) throw (Error) e;
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    // ------------------------------------------------------------------
    // Checks: basic operations
    // ------------------------------------------------------------------

    static {
        register("connection-state", c -> {
            List<ConnectionState> states = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch connected = new CountDownLatch(1);
            CuratorFramework cl = c.defer(builder().build());
            cl.getConnectionStateListenable().addListener((client, st) -> {
                states.add(st);
                if (st == ConnectionState.CONNECTED) connected.countDown();
            });
            cl.start();
            check(connected.await(TIMEOUT_MS, TimeUnit.MILLISECONDS),
                    "no CONNECTED state within " + TIMEOUT_MS + " ms (states: " + states + ")");
            check(cl.getZookeeperClient().isConnected(), "isConnected() false after CONNECTED");
            check(sessionId(cl) != 0, "session id is 0");
            eq(30_000, cl.getZookeeperClient().getZooKeeper().getSessionTimeout(), "negotiated session timeout");
            check(cl.checkExists().forPath("/") != null, "checkExists(/) returned null");
            eq(List.of(ConnectionState.CONNECTED), new ArrayList<>(states), "connection states seen");
            // session timeouts are clamped to [2, 20] ticks; Curator's default asks for 60 s
            CuratorFramework dflt = c.defer(CuratorFrameworkFactory.newClient(connect, new ExponentialBackoffRetry(100, 5)));
            dflt.start();
            check(dflt.blockUntilConnected((int) TIMEOUT_MS, TimeUnit.MILLISECONDS), "default client did not connect");
            eq(20 * TICK_MS, dflt.getZookeeperClient().getZooKeeper().getSessionTimeout(),
                    "negotiated timeout for Curator's default 60000 ms");
            CuratorFramework small = c.newClient(b -> b.sessionTimeoutMs(1000));
            eq(2 * TICK_MS, small.getZookeeperClient().getZooKeeper().getSessionTimeout(),
                    "negotiated timeout for 1000 ms");
            check(sessionId(small) != sessionId(dflt) && sessionId(dflt) != sessionId(cl), "session ids not distinct");
            // a client that accepts read-only servers sends the readOnly
            // flag in its ConnectRequest; a standalone server is read-write
            List<ConnectionState> roStates = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch roConnected = new CountDownLatch(1);
            CuratorFramework ro = c.defer(builder().canBeReadOnly(true).build());
            ro.getConnectionStateListenable().addListener((client, st) -> {
                roStates.add(st);
                roConnected.countDown();
            });
            ro.start();
            check(roConnected.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "canBeReadOnly client did not connect");
            ro.create().forPath(c.path("ro-write"), b("w"));
            eq(List.of(ConnectionState.CONNECTED), new ArrayList<>(roStates), "states of a canBeReadOnly client");
            eq(b("w"), cl.getData().forPath(c.path("ro-write")), "write through a canBeReadOnly client");
        });

        register("crud-stat", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("node");
            Stat st = new Stat();
            eq(p, cl.create().storingStatIn(st).forPath(p, b("v0")), "create returned path");
            eq(0, st.getVersion(), "version after create");
            eq(0, st.getCversion(), "cversion after create");
            eq(0, st.getAversion(), "aversion after create");
            eq(2, st.getDataLength(), "dataLength after create");
            eq(0, st.getNumChildren(), "numChildren after create");
            eq(0L, st.getEphemeralOwner(), "ephemeralOwner after create");
            eq(st.getCzxid(), st.getMzxid(), "mzxid == czxid after create");
            eq(st.getCzxid(), st.getPzxid(), "pzxid == czxid after create");
            eq(st.getCtime(), st.getMtime(), "mtime == ctime after create");

            Stat gst = new Stat();
            eq(b("v0"), cl.getData().storingStatIn(gst).forPath(p), "getData");
            eq(st, gst, "getData Stat vs create Stat");

            Stat s1 = cl.setData().withVersion(0).forPath(p, b("v1"));
            eq(1, s1.getVersion(), "version after setData");
            eq(st.getCzxid(), s1.getCzxid(), "czxid after setData");
            check(s1.getMzxid() > st.getMzxid(), "mzxid did not grow: " + statStr(s1));
            eq(st.getPzxid(), s1.getPzxid(), "pzxid unchanged by setData");
            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "setData with stale version 0", () -> cl.setData().withVersion(0).forPath(p, b("zz")));
            eq(b("v1"), cl.getData().forPath(p), "data after rejected setData");

            Stat s2 = cl.setData().forPath(p, b("v2-longer"));
            eq(2, s2.getVersion(), "version after unconditional setData");
            eq(9, s2.getDataLength(), "dataLength after setData");
            eq(s2, cl.checkExists().forPath(p), "checkExists Stat");

            Stat dir = cl.checkExists().forPath(c.dir);
            eq(1, dir.getNumChildren(), "parent numChildren");
            eq(1, dir.getCversion(), "parent cversion after one create");
            eq(st.getCzxid(), dir.getPzxid(), "parent pzxid == child czxid");

            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "delete with version 1", () -> cl.delete().withVersion(1).forPath(p));
            cl.delete().withVersion(2).forPath(p);
            eq(null, cl.checkExists().forPath(p), "checkExists after delete");
            Stat dir2 = cl.checkExists().forPath(c.dir);
            eq(0, dir2.getNumChildren(), "parent numChildren after delete");
            eq(2, dir2.getCversion(), "parent cversion after create+delete");
            check(dir2.getPzxid() > s2.getMzxid(), "parent pzxid not advanced by delete: " + statStr(dir2));

            // create() without data stores the builder's default data
            // (Curator: the local address).
            String q = c.path("default-data");
            cl.create().forPath(q);
            eq(CuratorFrameworkFactory.builder().getDefaultData(), cl.getData().forPath(q), "default data");
            cl.delete().forPath(q);
            // empty data is empty, not null
            cl.create().forPath(q, new byte[0]);
            eq(new byte[0], cl.getData().forPath(q), "empty data");
        });

        register("create-parents", c -> {
            CuratorFramework cl = c.client;
            String leaf = c.path("a/b/c");
            eq(leaf, cl.create().creatingParentsIfNeeded().forPath(leaf, b("leaf")), "create returned path");
            eq(b("leaf"), cl.getData().forPath(leaf), "leaf data");
            eq(new byte[0], cl.getData().forPath(c.path("a")), "parent a data");
            eq(new byte[0], cl.getData().forPath(c.path("a/b")), "parent a/b data");
            eq(List.of("a"), cl.getChildren().forPath(c.dir), "children of dir");
            eq(List.of("b"), cl.getChildren().forPath(c.path("a")), "children of a");
            eq(List.of("c"), cl.getChildren().forPath(c.path("a/b")), "children of a/b");
            Stat a = cl.checkExists().forPath(c.path("a"));
            eq(0L, a.getEphemeralOwner(), "parent ephemeralOwner");
            eq(1, a.getNumChildren(), "parent numChildren");
            expectThrows(KeeperException.NodeExistsException.class, KeeperException.Code.NODEEXISTS, leaf,
                    "second create of the leaf", () -> cl.create().creatingParentsIfNeeded().forPath(leaf, b("x")));
            String sib = c.path("a/b/d");
            eq(sib, cl.create().creatingParentsIfNeeded().forPath(sib, b("d")), "sibling create");
            eq(List.of("c", "d"), sorted(cl.getChildren().forPath(c.path("a/b"))), "children of a/b");
            // an ephemeral leaf with persistent parents
            String eph = c.path("e1/e2/eph");
            cl.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(eph, b("e"));
            eq(sessionId(cl), cl.checkExists().forPath(eph).getEphemeralOwner(), "ephemeral leaf owner");
            eq(0L, cl.checkExists().forPath(c.path("e1/e2")).getEphemeralOwner(), "parent of ephemeral leaf");
        });

        register("create-parent-containers", c -> {
            CuratorFramework cl = c.client;
            if (!containersConnect.equals(connect)) {
                // a server of its own (with a fast container reaper)
                cl = c.newClient(containersConnect, b -> { });
                String base = c.dir.substring(0, c.dir.lastIndexOf('/'));
                CuratorFramework other = cl;
                c.defer(() -> other.delete().deletingChildrenIfNeeded().forPath(base));
                cl.create().creatingParentsIfNeeded().forPath(c.dir, new byte[0]);
            }
            String leaf = c.path("cont/p/leaf");
            eq(leaf, cl.create().creatingParentContainersIfNeeded().forPath(leaf, b("x")), "create returned path");
            eq(b("x"), cl.getData().forPath(leaf), "leaf data");
            Stat cont = cl.checkExists().forPath(c.path("cont"));
            Stat p = cl.checkExists().forPath(c.path("cont/p"));
            check(cont != null && p != null, "container parents missing");
            eq(0L, cont.getEphemeralOwner(), "container ephemeralOwner");
            eq(0L, p.getEphemeralOwner(), "container ephemeralOwner");
            eq(new byte[0], cl.getData().forPath(c.path("cont/p")), "container data");
            // A plain persistent node that also had a child, as a control.
            cl.create().creatingParentsIfNeeded().forPath(c.path("plain/x"), b("x"));
            cl.delete().forPath(c.path("plain/x"));
            // Deleting the leaf leaves p empty with cversion > 0: the
            // container reaper deletes p, then cont.
            cl.delete().forPath(leaf);
            awaitGone(cl, c.path("cont/p"), REAP_TIMEOUT_MS,
                    "the reaper to delete container cont/p (run the server with znode.container.checkIntervalMs<=1000)");
            awaitGone(cl, c.path("cont"), REAP_TIMEOUT_MS, "the reaper to delete container cont");
            check(cl.checkExists().forPath(c.path("plain")) != null, "persistent node 'plain' was reaped");
            eq(List.of("plain"), cl.getChildren().forPath(c.dir), "children of dir after reaping");
        });

        register("protected-ephemeral-sequential", c -> {
            CuratorFramework cl = c.client;
            String uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
            String r1 = cl.create().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .forPath(c.path("lock-"), b("one"));
            String r2 = cl.create().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .forPath(c.path("lock-"), b("two"));
            check(Pattern.matches(Pattern.quote(c.dir) + "/_c_" + uuid + "-lock-0000000000", r1),
                    "first protected path: " + r1);
            check(Pattern.matches(Pattern.quote(c.dir) + "/_c_" + uuid + "-lock-0000000001", r2),
                    "second protected path: " + r2);
            String n1 = r1.substring(c.dir.length() + 1), n2 = r2.substring(c.dir.length() + 1);
            check(ProtectedUtils.extractProtectedId(n1).isPresent(), "no protection id in " + n1);
            check(!ProtectedUtils.extractProtectedId(n1).equals(ProtectedUtils.extractProtectedId(n2)),
                    "both creates used the same protection id: " + n1 + ", " + n2);
            eq("lock-0000000000", ProtectedUtils.normalize(n1), "normalized name");
            eq(b("one"), cl.getData().forPath(r1), "data of first");
            eq(b("two"), cl.getData().forPath(r2), "data of second");
            eq(sessionId(cl), cl.checkExists().forPath(r1).getEphemeralOwner(), "ephemeralOwner");
            eq(sorted(List.of(r1.substring(c.dir.length() + 1), r2.substring(c.dir.length() + 1))),
                    sorted(cl.getChildren().forPath(c.dir)), "children");
            // the sequence counter is the parent's, shared with other modes
            String r3 = cl.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(c.path("seq-"), b("3"));
            eq(c.path("seq-0000000002"), r3, "persistent sequential after two");
            // withProtectedEphemeralSequential() is the same thing
            @SuppressWarnings("deprecation")
            String r4 = cl.create().withProtectedEphemeralSequential().forPath(c.path("old-"), b("4"));
            check(Pattern.matches(Pattern.quote(c.dir) + "/_c_" + uuid + "-old-0000000003", r4),
                    "withProtectedEphemeralSequential path: " + r4);
        });

        register("or-set-data", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("n");
            eq(p, cl.create().orSetData().forPath(p, b("a")), "orSetData create");
            eq(0, cl.checkExists().forPath(p).getVersion(), "version after create");
            eq(p, cl.create().orSetData().forPath(p, b("b")), "orSetData on existing");
            eq(b("b"), cl.getData().forPath(p), "data after orSetData");
            eq(1, cl.checkExists().forPath(p).getVersion(), "version after orSetData");
            eq(p, cl.create().orSetData(1).forPath(p, b("c")), "orSetData(1)");
            eq(2, cl.checkExists().forPath(p).getVersion(), "version after orSetData(1)");
            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "orSetData(0) on version 2", () -> cl.create().orSetData(0).forPath(p, b("d")));
            eq(b("c"), cl.getData().forPath(p), "data after failed orSetData(0)");
            String q = c.path("x/y");
            eq(q, cl.create().orSetData().creatingParentsIfNeeded().forPath(q, b("q")), "orSetData with parents");
            eq(b("q"), cl.getData().forPath(q), "data of x/y");
        });

        register("idempotent", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("n");
            eq(p, cl.create().idempotent().forPath(p, b("x")), "first idempotent create");
            eq(p, cl.create().idempotent().forPath(p, b("x")), "repeated idempotent create");
            eq(0, cl.checkExists().forPath(p).getVersion(), "version after repeated create");
            expectThrows(KeeperException.NodeExistsException.class, KeeperException.Code.NODEEXISTS, p,
                    "idempotent create with other data", () -> cl.create().idempotent().forPath(p, b("other")));
            Stat s1 = cl.setData().idempotent().withVersion(0).forPath(p, b("y"));
            eq(1, s1.getVersion(), "version after idempotent setData");
            Stat s2 = cl.setData().idempotent().withVersion(0).forPath(p, b("y"));
            eq(1, s2.getVersion(), "repeated idempotent setData (same data, version+1)");
            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "idempotent setData with other data", () -> cl.setData().idempotent().withVersion(0).forPath(p, b("z")));
            eq(b("y"), cl.getData().forPath(p), "data");
            cl.delete().idempotent().forPath(p);
            cl.delete().idempotent().forPath(p);
            eq(null, cl.checkExists().forPath(p), "node after idempotent deletes");
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, p,
                    "plain delete of a missing node", () -> cl.delete().forPath(p));
            cl.delete().quietly().forPath(p);
        });

        register("compression", c -> {
            CuratorFramework cl = c.client;
            GzipCompressionProvider gz = new GzipCompressionProvider();
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 200; i++) sb.append("hello curator ").append(i % 7).append('\n');
            byte[] data = b(sb.toString());
            String p = c.path("z");
            cl.create().compressed().forPath(p, data);
            Stat st = new Stat();
            byte[] raw = cl.getData().storingStatIn(st).forPath(p);
            eq(gz.compress(p, data), raw, "stored (compressed) bytes");
            check(raw.length > 2 && raw[0] == (byte) 0x1f && raw[1] == (byte) 0x8b, "stored bytes are not gzip");
            check(raw.length < data.length, "compressed " + raw.length + " >= plain " + data.length);
            eq(raw.length, st.getDataLength(), "Stat dataLength is the compressed length");
            eq(data, cl.getData().decompressed().forPath(p), "decompressed data");
            byte[] data2 = b(sb.toString().toUpperCase());
            cl.setData().compressed().forPath(p, data2);
            eq(data2, cl.getData().decompressed().forPath(p), "decompressed data after setData");
            eq(data2, gz.decompress(p, cl.getData().forPath(p)), "raw data after compressed setData");
            // compressed create inside a transaction
            String q = c.path("tz");
            cl.transaction().forOperations(cl.transactionOp().create().compressed().forPath(q, data));
            eq(data, cl.getData().decompressed().forPath(q), "decompressed data from transaction create");
        });

        register("acl-digest", c -> {
            String digest = DigestAuthenticationProvider.generateDigest("alice:secret");
            check(digest.startsWith("alice:"), "generateDigest: " + digest);
            CuratorFramework alice = c.newClient(bld -> bld.authorization("digest", b("alice:secret")));
            // alice cleans up her nodes (nobody else may)
            c.defer(() -> alice.delete().deletingChildrenIfNeeded().forPath(c.dir));
            CuratorFramework anon = c.newClient();
            CuratorFramework mallory = c.newClient(bld -> bld.authorization("digest", b("alice:wrong")));
            Id aliceId = new Id("digest", digest);
            List<ACL> only = List.of(new ACL(ZooDefs.Perms.ALL, aliceId));
            String p = c.path("secret");
            alice.create().withACL(only).forPath(p, b("s3cr3t"));
            Stat st = new Stat();
            eq(only, alice.getACL().storingStatIn(st).forPath(p), "getACL");
            eq(0, st.getAversion(), "aversion");
            eq(b("s3cr3t"), alice.getData().forPath(p), "owner reads");
            check(anon.checkExists().forPath(p) != null, "exists needs no permission");
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p,
                    "anonymous getData", () -> anon.getData().forPath(p));
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p,
                    "wrong password getData", () -> mallory.getData().forPath(p));
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p,
                    "anonymous setData", () -> anon.setData().forPath(p, b("x")));
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p + "/kid",
                    "anonymous create child", () -> anon.create().forPath(p + "/kid", b("x")));
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p,
                    "anonymous getChildren", () -> anon.getChildren().forPath(p));
            alice.create().forPath(p + "/kid", b("k"));
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p + "/kid",
                    "anonymous delete child", () -> anon.delete().forPath(p + "/kid"));
            eq(List.of("kid"), alice.getChildren().forPath(p), "children after rejected delete");

            // CREATOR_ALL_ACL turns into the creator's digest id
            String q = c.path("creator");
            alice.create().withACL(ZooDefs.Ids.CREATOR_ALL_ACL).forPath(q, b("c"));
            eq(only, alice.getACL().forPath(q), "CREATOR_ALL_ACL as stored");
            expectThrows(KeeperException.InvalidACLException.class, KeeperException.Code.INVALIDACL, q + "2",
                    "CREATOR_ALL_ACL without auth", () -> anon.create().withACL(ZooDefs.Ids.CREATOR_ALL_ACL).forPath(q + "2"));

            // world READ + alice ALL: anyone reads, only alice writes
            String r = c.path("mixed");
            List<ACL> mixed = List.of(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE),
                    new ACL(ZooDefs.Perms.ALL, aliceId));
            alice.create().withACL(mixed).forPath(r, b("m"));
            eq(b("m"), anon.getData().forPath(r), "world-readable data");
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, r,
                    "anonymous setData on world-readable", () -> anon.setData().forPath(r, b("x")));
            Stat s1 = alice.setData().forPath(r, b("m2"));
            eq(1, s1.getVersion(), "owner setData");

            // setACL with version; the new ACL applies at once
            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "setACL with wrong aversion",
                    () -> alice.setACL().withVersion(3).withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(p));
            Stat s2 = alice.setACL().withVersion(0).withACL(mixed).forPath(p);
            eq(1, s2.getAversion(), "aversion after setACL");
            eq(0, s2.getVersion(), "version after setACL");
            eq(b("s3cr3t"), anon.getData().forPath(p), "anonymous read after setACL");
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, p,
                    "anonymous setACL", () -> anon.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(p));
        });

        register("errors", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("n");
            cl.create().forPath(p, b("x"));
            expectThrows(KeeperException.NodeExistsException.class, KeeperException.Code.NODEEXISTS, p,
                    "create existing", () -> cl.create().forPath(p, b("y")));
            String m = c.path("missing");
            eq(null, cl.checkExists().forPath(m), "checkExists on missing");
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m,
                    "getData missing", () -> cl.getData().forPath(m));
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m,
                    "setData missing", () -> cl.setData().forPath(m, b("x")));
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m,
                    "getChildren missing", () -> cl.getChildren().forPath(m));
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m,
                    "delete missing", () -> cl.delete().forPath(m));
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m + "/kid",
                    "create under missing parent", () -> cl.create().forPath(m + "/kid", b("x")));
            expectThrows(KeeperException.NoNodeException.class, KeeperException.Code.NONODE, m,
                    "getACL missing", () -> cl.getACL().forPath(m));
            expectThrows(KeeperException.BadVersionException.class, KeeperException.Code.BADVERSION, p,
                    "setData bad version", () -> cl.setData().withVersion(5).forPath(p, b("y")));
            cl.create().forPath(p + "/kid", b("k"));
            expectThrows(KeeperException.NotEmptyException.class, KeeperException.Code.NOTEMPTY, p,
                    "delete non-empty", () -> cl.delete().forPath(p));
            String e = c.path("eph");
            cl.create().withMode(CreateMode.EPHEMERAL).forPath(e, b("e"));
            expectThrows(KeeperException.NoChildrenForEphemeralsException.class,
                    KeeperException.Code.NOCHILDRENFOREPHEMERALS, e + "/kid",
                    "child of ephemeral", () -> cl.create().forPath(e + "/kid", b("x")));
            // deletingChildrenIfNeeded removes the subtree
            cl.create().forPath(p + "/kid/grandkid", b("g"));
            cl.delete().deletingChildrenIfNeeded().forPath(p);
            eq(null, cl.checkExists().forPath(p), "after deletingChildrenIfNeeded");
            // a bad path never reaches the server
            expectThrows(IllegalArgumentException.class, null, null, "path with trailing slash",
                    () -> cl.create().forPath(c.dir + "/bad/", b("x")));
        });

        register("children-sorted", c -> {
            CuratorFramework cl = c.client;
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 40; i++) names.add(String.format("%s-%02d", (char) ('a' + (i * 7) % 26), i));
            names.add("Z");
            names.add("10");
            names.add("9");
            List<String> shuffled = new ArrayList<>(names);
            Collections.shuffle(shuffled, new Random(42));
            for (String n : shuffled) cl.create().forPath(c.path(n), b(n));
            Stat st = new Stat();
            List<String> kids = cl.getChildren().storingStatIn(st).forPath(c.dir);
            eq(names.size(), kids.size(), "number of children");
            eq(sorted(names), sorted(kids), "sorted children");
            eq(names.size(), st.getNumChildren(), "numChildren");
            eq(names.size(), st.getCversion(), "cversion");
            eq(List.of(), cl.getChildren().forPath(c.path("Z")), "children of a leaf");
            for (String n : List.of("Z", "10", "a-00")) cl.delete().forPath(c.path(n));
            List<String> left = sorted(names);
            left.removeAll(List.of("Z", "10", "a-00"));
            eq(left, sorted(cl.getChildren().forPath(c.dir)), "children after deletes");
        });

        register("background-ops", c -> {
            CuratorFramework cl = c.client;
            BlockingQueue<CuratorEvent> q = new LinkedBlockingQueue<>();
            String p = c.path("bg");
            cl.create().inBackground((client, ev) -> q.add(ev)).forPath(p, b("d"));
            CuratorEvent ev = poll(q, "create callback");
            eq(CuratorEventType.CREATE, ev.getType(), "event type");
            eq(0, ev.getResultCode(), "create result code");
            eq(p, ev.getPath(), "create event path");
            eq(p, ev.getName(), "create event name");
            cl.getData().inBackground((client, e2) -> q.add(e2)).forPath(p);
            ev = poll(q, "getData callback");
            eq(CuratorEventType.GET_DATA, ev.getType(), "event type");
            eq(b("d"), ev.getData(), "getData event data");
            eq(0, ev.getStat().getVersion(), "getData event Stat version");
            cl.getData().inBackground((client, e2) -> q.add(e2)).forPath(p + "-missing");
            ev = poll(q, "getData(missing) callback");
            eq(KeeperException.Code.NONODE.intValue(), ev.getResultCode(), "getData(missing) result code");
            cl.sync().inBackground((client, e2) -> q.add(e2)).forPath(p);
            ev = poll(q, "sync callback");
            eq(CuratorEventType.SYNC, ev.getType(), "event type");
            eq(0, ev.getResultCode(), "sync result code");
            eq(p, ev.getPath(), "sync path");
            cl.getChildren().inBackground((client, e2) -> q.add(e2)).forPath(c.dir);
            ev = poll(q, "getChildren callback");
            eq(CuratorEventType.CHILDREN, ev.getType(), "event type");
            eq(List.of("bg"), ev.getChildren(), "children in event");
            cl.delete().inBackground((client, e2) -> q.add(e2)).forPath(p);
            ev = poll(q, "delete callback");
            eq(CuratorEventType.DELETE, ev.getType(), "event type");
            eq(0, ev.getResultCode(), "delete result code");
            eq(null, cl.checkExists().forPath(p), "node after background delete");
        });

        register("namespace", c -> {
            String ns = c.dir.substring(1) + "/ns";
            CuratorFramework nsc = c.client.usingNamespace(ns);
            eq("/x", nsc.create().forPath("/x", b("1")), "create in namespace returns relative path");
            eq(b("1"), c.client.getData().forPath(c.path("ns/x")), "node is under the namespace");
            eq(List.of("x"), nsc.getChildren().forPath("/"), "children of namespace root");
            String seq = nsc.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/s-", b("2"));
            eq("/s-0000000001", seq, "sequential path relative to namespace");
            // KeeperException.getPath() is the server's path, namespace included
            expectThrows(KeeperException.NodeExistsException.class, KeeperException.Code.NODEEXISTS, c.path("ns/x"),
                    "create existing in namespace", () -> nsc.create().forPath("/x", b("1")));
        });
    }

    static CuratorEvent poll(BlockingQueue<CuratorEvent> q, String what) throws InterruptedException {
        CuratorEvent ev = q.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        if (ev == null) throw fail("no " + what + " within " + TIMEOUT_MS + " ms");
        return ev;
    }

    // ------------------------------------------------------------------
    // Checks: transactions
    // ------------------------------------------------------------------

    static String results(List<CuratorTransactionResult> res, Ctx c) {
        return res.stream().map(r -> r.getType() + " " + c.rel(r.getForPath()) + " -> " + c.rel(r.getResultPath())
                + " err=" + r.getError()).collect(Collectors.joining("; "));
    }

    static List<Integer> errCodes(List<OpResult> results) {
        List<Integer> codes = new ArrayList<>();
        for (OpResult r : results)
            codes.add(r instanceof OpResult.ErrorResult ? ((OpResult.ErrorResult) r).getErr() : 0);
        return codes;
    }

    static {
        register("transaction-commit", c -> {
            CuratorFramework cl = c.client;
            cl.create().forPath(c.path("old"), b("z"));
            String t = c.path("t");
            List<CuratorOp> ops = List.of(
                    cl.transactionOp().create().forPath(t, b("a")),
                    cl.transactionOp().setData().forPath(t, b("b")),
                    cl.transactionOp().check().withVersion(1).forPath(t),
                    cl.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(t + "/s-", b("s")),
                    cl.transactionOp().delete().withVersion(0).forPath(c.path("old")));
            List<CuratorTransactionResult> res = cl.transaction().forOperations(ops);
            eq("CREATE t -> t err=0; SET_DATA t -> null err=0; CHECK t -> null err=0; "
                            + "CREATE t/s- -> t/s-0000000000 err=0; DELETE old -> null err=0",
                    results(res, c), "transaction results");
            Stat set = res.get(1).getResultStat();
            check(set != null, "SET_DATA result has no Stat");
            eq(1, set.getVersion(), "SET_DATA result version");
            eq(set.getCzxid(), set.getMzxid(), "create and setData in one txn share the zxid");
            Stat st = new Stat();
            eq(b("b"), cl.getData().storingStatIn(st).forPath(t), "data of t");
            // the SET_DATA result is t's Stat right after that op: the
            // child created later in the same multi is not counted yet
            Stat expSet = new Stat(st.getCzxid(), st.getMzxid(), st.getCtime(), st.getMtime(), 1, 0, 0, 0, 1, 0,
                    st.getCzxid());
            eq(expSet, set, "SET_DATA result Stat");
            eq(1, st.getCversion(), "cversion of t");
            eq(1, st.getNumChildren(), "numChildren of t");
            eq(st.getCtime(), st.getMtime(), "mtime == ctime (one txn)");
            eq(List.of("s-0000000000"), cl.getChildren().forPath(t), "children of t");
            eq(st.getMzxid(), cl.checkExists().forPath(t + "/s-0000000000").getCzxid(), "child czxid == txn zxid");
            eq(st.getMzxid(), st.getPzxid(), "pzxid of t == txn zxid");
            eq(null, cl.checkExists().forPath(c.path("old")), "deleted in transaction");
            eq(List.of("t"), cl.getChildren().forPath(c.dir), "children of dir");

            // background transaction
            BlockingQueue<CuratorEvent> q = new LinkedBlockingQueue<>();
            cl.transaction().inBackground((client, ev) -> q.add(ev)).forOperations(
                    cl.transactionOp().setData().withVersion(1).forPath(t, b("c")),
                    cl.transactionOp().delete().forPath(t + "/s-0000000000"));
            CuratorEvent ev = poll(q, "transaction callback");
            eq(CuratorEventType.TRANSACTION, ev.getType(), "background event type");
            eq(0, ev.getResultCode(), "background result code");
            eq("SET_DATA t -> null err=0; DELETE t/s-0000000000 -> null err=0", results(ev.getOpResults(), c),
                    "background results");
            eq(2, ev.getOpResults().get(0).getResultStat().getVersion(), "background SET_DATA version");

            // the Curator 2/3 style, still common: inTransaction()...commit()
            String u = c.path("u");
            @SuppressWarnings("deprecation")
            Collection<CuratorTransactionResult> old = cl.inTransaction()
                    .create().forPath(u, b("1")).and()
                    .setData().withVersion(0).forPath(u, b("2")).and()
                    .check().withVersion(2).forPath(t).and()
                    .commit();
            eq("CREATE u -> u err=0; SET_DATA u -> null err=0; CHECK t -> null err=0",
                    results(new ArrayList<>(old), c), "inTransaction results");
            eq(b("2"), cl.getData().forPath(u), "data after inTransaction");
        });

        register("transaction-rollback", c -> {
            CuratorFramework cl = c.client;
            String q = c.path("q");
            cl.create().forPath(q, b("q0"));
            Stat before = cl.checkExists().forPath(c.dir);
            List<CuratorOp> ops = List.of(
                    cl.transactionOp().create().forPath(c.path("r"), b("r")),
                    cl.transactionOp().setData().forPath(q, b("x")),
                    cl.transactionOp().check().withVersion(5).forPath(q),
                    cl.transactionOp().delete().forPath(q));
            KeeperException e = expectThrows(KeeperException.BadVersionException.class,
                    KeeperException.Code.BADVERSION, null, "transaction with a failing check",
                    () -> cl.transaction().forOperations(ops));
            check(e.getResults() != null, "exception carries no results");
            eq(List.of(0, 0, KeeperException.Code.BADVERSION.intValue(),
                            KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()),
                    errCodes(e.getResults()), "per-op result codes");
            eq(null, cl.checkExists().forPath(c.path("r")), "create rolled back");
            Stat qs = new Stat();
            eq(b("q0"), cl.getData().storingStatIn(qs).forPath(q), "setData rolled back");
            eq(0, qs.getVersion(), "version of q");
            eq(List.of("q"), cl.getChildren().forPath(c.dir), "children of dir");
            eq(before, cl.checkExists().forPath(c.dir), "Stat of dir unchanged");

            // the first op fails
            KeeperException e2 = expectThrows(KeeperException.NodeExistsException.class,
                    KeeperException.Code.NODEEXISTS, null, "transaction whose first op fails",
                    () -> cl.transaction().forOperations(
                            cl.transactionOp().create().forPath(q, b("dup")),
                            cl.transactionOp().create().forPath(c.path("r2"), b("r")),
                            cl.transactionOp().delete().forPath(q)));
            eq(List.of(KeeperException.Code.NODEEXISTS.intValue(),
                            KeeperException.Code.RUNTIMEINCONSISTENCY.intValue(),
                            KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()),
                    errCodes(e2.getResults()), "per-op result codes (first op fails)");
            eq(null, cl.checkExists().forPath(c.path("r2")), "r2 not created");

            // background: result code and per-op errors in the event
            BlockingQueue<CuratorEvent> bq = new LinkedBlockingQueue<>();
            cl.transaction().inBackground((client, ev) -> bq.add(ev)).forOperations(
                    cl.transactionOp().setData().forPath(q, b("y")),
                    cl.transactionOp().delete().withVersion(7).forPath(q),
                    cl.transactionOp().create().forPath(q + "/z", b("z")));
            CuratorEvent ev = poll(bq, "failed background transaction callback");
            eq(CuratorEventType.TRANSACTION, ev.getType(), "background event type");
            eq(KeeperException.Code.BADVERSION.intValue(), ev.getResultCode(), "background result code");
            check(ev.getOpResults() != null, "failed background transaction has no op results");
            eq("SET_DATA q -> null err=0; DELETE q -> null err=-103; CREATE q/z -> null err=-2",
                    results(ev.getOpResults(), c), "failed background transaction op results");
            eq(b("q0"), cl.getData().forPath(q), "data after failed background transaction");
            eq(0, cl.checkExists().forPath(q).getVersion(), "version after failed background transaction");
        });
    }

    // ------------------------------------------------------------------
    // Checks: recipes
    // ------------------------------------------------------------------

    static {
        register("mutex", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String lp = c.path("lock");
            InterProcessMutex m1 = new InterProcessMutex(c1, lp);
            InterProcessMutex m2 = new InterProcessMutex(c2, lp);
            check(m1.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "first client could not take a free lock");
            check(m1.isAcquiredInThisProcess() && m1.isOwnedByCurrentThread(), "m1 does not know it holds the lock");
            check(!m2.isAcquiredInThisProcess(), "m2 thinks it holds the lock");
            check(!m2.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "second client took a held lock");
            // reentrant: one node, two holds
            check(m1.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "re-entrant acquire failed");
            List<String> nodes = new ArrayList<>(m1.getParticipantNodes());
            eq(1, nodes.size(), "participant nodes while held twice: " + nodes);
            check(Pattern.matches(Pattern.quote(lp) + "/_c_[0-9a-f-]{36}-lock-\\d{10}", nodes.get(0)),
                    "lock node name " + nodes.get(0));
            m1.release();
            check(m1.isAcquiredInThisProcess(), "released once of two holds: lock lost");
            check(!m2.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "second client took a lock still held once");

            // hand-off to a waiting client
            CountDownLatch got = new CountDownLatch(1), done = new CountDownLatch(1);
            AtomicReference<Throwable> err = new AtomicReference<>();
            Thread t = thread("m2", () -> {
                if (m2.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    got.countDown();
                    done.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    m2.release();
                }
            }, err);
            List<String> kids = awaitChildren(c1, lp, k -> k.size() == 2, "the waiter's lock node");
            eq(1L, got.getCount(), "waiter got the lock while m1 holds it (" + kids + ")");
            m1.release();
            check(!m1.isAcquiredInThisProcess(), "m1 still holds after two releases");
            check(got.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "waiter did not get the lock after release");
            check(!m1.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "m1 took the lock while m2 holds it");
            done.countDown();
            join(t, err);
            eq(List.of(), childrenOrReaped(c1, lp), "lock nodes after all released");

            // mutual exclusion under contention
            AtomicInteger inside = new AtomicInteger(), maxInside = new AtomicInteger(), total = new AtomicInteger();
            List<Thread> ts = new ArrayList<>();
            for (InterProcessMutex m : List.of(new InterProcessMutex(c1, lp), new InterProcessMutex(c2, lp))) {
                ts.add(thread("contend", () -> {
                    for (int i = 0; i < 10; i++) {
                        if (!m.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS)) throw fail("contended acquire timed out");
                        try {
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            total.incrementAndGet();
                            inside.decrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                }, err));
            }
            for (Thread x : ts) join(x, err);
            eq(20, total.get(), "critical sections run");
            eq(1, maxInside.get(), "max holders at once");
        });

        register("semaphore", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String sp = c.path("sem");
            InterProcessSemaphoreV2 s1 = new InterProcessSemaphoreV2(c1, sp, 2);
            InterProcessSemaphoreV2 s2 = new InterProcessSemaphoreV2(c2, sp, 2);
            s1.setNodeData(b("c1"));
            s2.setNodeData(b("c2"));
            Collection<Lease> l1 = s1.acquire(2, TIMEOUT_MS, TimeUnit.MILLISECONDS);
            check(l1 != null, "could not take 2 of 2 free leases");
            eq(2, l1.size(), "leases granted");
            for (Lease l : l1) {
                eq(b("c1"), l.getData(), "lease data");
                check(Pattern.matches("_c_[0-9a-f-]{36}-lease-\\d{10}", l.getNodeName()),
                        "lease node name " + l.getNodeName());
            }
            eq(2, s2.getParticipantNodes().size(), "participant nodes");
            eq(null, s2.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "lease granted beyond the limit");

            AtomicReference<Lease> waited = new AtomicReference<>();
            AtomicReference<Throwable> err = new AtomicReference<>();
            CountDownLatch got = new CountDownLatch(1);
            Thread t = thread("s2", () -> {
                waited.set(s2.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                got.countDown();
            }, err);
            awaitChildren(c1, sp + "/leases", k -> k.size() == 3, "the waiter's lease node");
            eq(1L, got.getCount(), "waiter got a lease while none is free");
            Lease first = l1.iterator().next();
            s1.returnLease(first);
            check(got.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "waiter got no lease after one was returned");
            join(t, err);
            check(waited.get() != null, "waiter's acquire returned null");
            eq(b("c2"), waited.get().getData(), "waiter's lease data");
            eq(2, s1.getParticipantNodes().size(), "participant nodes");
            List<Lease> rest = new ArrayList<>(l1);
            rest.remove(first);
            s1.returnAll(rest);
            s2.returnLease(waited.get());
            eq(0, s1.getParticipantNodes().size(), "participant nodes after all returned");
        });

        register("read-write-lock", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient(), c3 = c.newClient();
            String lp = c.path("rw");
            InterProcessReadWriteLock rw1 = new InterProcessReadWriteLock(c1, lp);
            InterProcessReadWriteLock rw2 = new InterProcessReadWriteLock(c2, lp);
            InterProcessReadWriteLock rw3 = new InterProcessReadWriteLock(c3, lp);
            InterProcessLock r1 = rw1.readLock(), r2 = rw2.readLock(), w3 = rw3.writeLock();
            check(r1.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "reader 1 blocked");
            check(r2.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "reader 2 blocked by reader 1");
            check(!w3.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "writer got in with two readers");
            r1.release();
            check(!w3.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "writer got in with one reader");
            r2.release();
            check(w3.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "writer blocked with no readers");
            check(!r1.acquire(SHORT_MS, TimeUnit.MILLISECONDS), "reader got in while writer holds");
            check(!rw2.writeLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS), "second writer got in");
            // the writer may also take the read lock (downgrade)
            check(rw3.readLock().acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "writer could not take read lock");
            w3.release();
            check(!rw2.writeLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS), "writer got in past downgraded reader");
            check(r1.acquire(TIMEOUT_MS, TimeUnit.MILLISECONDS), "reader blocked by downgraded reader");
            r1.release();
            rw3.readLock().release();
            eq(List.of(), childrenOrReaped(c1, lp), "lock nodes after all released");
        });

        register("leader-latch", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String lp = c.path("latch");
            LeaderLatch l1 = new LeaderLatch(c1, lp, "p1");
            LeaderLatch l2 = new LeaderLatch(c2, lp, "p2");
            c.defer(() -> { if (l2.getState() == LeaderLatch.State.STARTED) l2.close(); });
            c.defer(() -> { if (l1.getState() == LeaderLatch.State.STARTED) l1.close(); });
            CountDownLatch l2Leader = new CountDownLatch(1);
            Recorder rec = new Recorder();
            l2.addListener(new LeaderLatchListener() {
                public void isLeader() {
                    rec.add("p2 isLeader");
                    l2Leader.countDown();
                }

                public void notLeader() {
                    rec.add("p2 notLeader");
                }
            });
            l1.start();
            check(l1.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "sole participant did not become leader");
            l2.start();
            awaitChildren(c1, lp, k -> k.size() == 2, "both latch nodes");
            check(l1.hasLeadership(), "p1 lost leadership when p2 joined");
            check(!l2.hasLeadership(), "p2 is leader too");
            check(!l2.await(SHORT_MS, TimeUnit.MILLISECONDS), "p2 became leader while p1 leads");
            Participant leader = l2.getLeader();
            eq("p1", leader.getId(), "leader seen by p2");
            check(leader.isLeader(), "Participant.isLeader");
            eq(List.of("p1", "p2"), l1.getParticipants().stream().map(Participant::getId).collect(Collectors.toList()),
                    "participants in order");
            eq(b("p1"), c1.getData().forPath(l1.getOurPath()), "latch node data");
            l1.close();
            check(l2Leader.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "p2 did not become leader after p1 closed");
            check(l2.hasLeadership(), "p2.hasLeadership after hand-off");
            eq("p2", l2.getLeader().getId(), "leader after hand-off");
            eq(List.of("p2"), l2.getParticipants().stream().map(Participant::getId).collect(Collectors.toList()),
                    "participants after hand-off");
            eq(List.of("p2 isLeader"), rec.snapshot(), "p2 listener calls");
        });

        register("leader-selector", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String lp = c.path("sel");
            BlockingQueue<String> leaders = new LinkedBlockingQueue<>();
            Map<String, CountDownLatch> release = Map.of("s1", new CountDownLatch(1), "s2", new CountDownLatch(1));
            AtomicInteger inside = new AtomicInteger(), maxInside = new AtomicInteger();
            List<LeaderSelector> sels = new ArrayList<>();
            for (String id : List.of("s1", "s2")) {
                LeaderSelector s = new LeaderSelector(id.equals("s1") ? c1 : c2, lp, new LeaderSelectorListenerAdapter() {
                    public void takeLeadership(CuratorFramework client) throws Exception {
                        maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        leaders.add(id);
                        try {
                            release.get(id).await();
                        } finally {
                            inside.decrementAndGet();
                        }
                    }
                });
                s.setId(id);
                sels.add(s);
                c.defer(s);
            }
            sels.get(0).start();
            eq("s1", leaders.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS), "first leader");
            sels.get(1).start();
            awaitChildren(c1, lp, k -> k.size() == 2, "both selector nodes");
            check(sels.get(0).hasLeadership(), "s1.hasLeadership");
            check(!sels.get(1).hasLeadership(), "s2.hasLeadership while s1 leads");
            eq("s1", sels.get(1).getLeader().getId(), "leader seen by s2");
            eq(List.of("s1", "s2"), sels.get(1).getParticipants().stream().map(Participant::getId)
                    .collect(Collectors.toList()), "participants");
            eq(null, leaders.poll(SHORT_MS, TimeUnit.MILLISECONDS), "a second leader while s1 leads");
            release.get("s1").countDown();
            eq("s2", leaders.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS), "leader after s1 relinquished");
            check(sels.get(1).hasLeadership(), "s2.hasLeadership after hand-off");
            eq(List.of("s2"), sels.get(1).getParticipants().stream().map(Participant::getId)
                    .collect(Collectors.toList()), "participants after hand-off");
            release.get("s2").countDown();
            awaitChildren(c1, lp, List::isEmpty, "selector nodes to go");
            eq(1, maxInside.get(), "leaders at once");
        });

        register("atomic-long", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("counter");
            DistributedAtomicLong a1 = new DistributedAtomicLong(c1, p, new RetryNTimes(50, 5));
            DistributedAtomicLong a2 = new DistributedAtomicLong(c2, p, new RetryNTimes(50, 5));
            check(a1.initialize(0L), "initialize on a fresh node returned false");
            check(!a2.initialize(5L), "second initialize returned true");
            AtomicInteger failedTries = new AtomicInteger();
            AtomicReference<Throwable> err = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (DistributedAtomicLong a : List.of(a1, a2)) {
                ts.add(thread("inc", () -> {
                    for (int i = 0; i < 20; i++) {
                        int tries = 0;
                        while (true) {
                            AtomicValue<Long> v = a.increment();
                            if (v.succeeded()) {
                                if (v.postValue() != v.preValue() + 1)
                                    throw fail("increment " + v.preValue() + " -> " + v.postValue());
                                break;
                            }
                            failedTries.incrementAndGet();
                            if (++tries > 20) throw fail("increment kept failing");
                        }
                    }
                }, err));
            }
            for (Thread t : ts) join(t, err);
            AtomicValue<Long> v = a2.get();
            check(v.succeeded(), "get() did not succeed");
            eq(40L, v.postValue(), "final value after 2x20 increments");
            Stat st = new Stat();
            byte[] raw = c1.getData().storingStatIn(st).forPath(p);
            eq(8, raw.length, "stored value length");
            eq(40L, ByteBuffer.wrap(raw).getLong(), "stored value");
            eq(40, st.getVersion(), "node version after 40 increments");
            AtomicValue<Long> cas = a1.compareAndSet(40L, 7L);
            check(cas.succeeded(), "compareAndSet(40, 7) failed");
            eq(40L, cas.preValue(), "CAS preValue");
            eq(7L, cas.postValue(), "CAS postValue");
            AtomicValue<Long> cas2 = a2.compareAndSet(40L, 9L);
            check(!cas2.succeeded(), "stale compareAndSet(40, 9) succeeded");
            eq(7L, a2.get().postValue(), "value after stale CAS");
            eq(5L, a2.add(-2L).postValue(), "add(-2)");
            eq(0L, a1.subtract(5L).postValue(), "subtract(5)");
            a1.forceSet(-1L);
            eq(-1L, a2.get().postValue(), "after forceSet(-1)");
            System.err.println("atomic-long: " + failedTries.get() + " optimistic increments were retried");
        });

        register("barrier", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("barrier");
            DistributedBarrier b1 = new DistributedBarrier(c1, p);
            DistributedBarrier b2 = new DistributedBarrier(c2, p);
            check(b2.waitOnBarrier(SHORT_MS, TimeUnit.MILLISECONDS), "waitOnBarrier with no barrier blocked");
            b1.setBarrier();
            check(c2.checkExists().forPath(p) != null, "barrier node missing");
            check(!b2.waitOnBarrier(SHORT_MS, TimeUnit.MILLISECONDS), "waitOnBarrier passed a set barrier");
            AtomicReference<Throwable> err = new AtomicReference<>();
            AtomicReference<Boolean> passed = new AtomicReference<>();
            Thread t = thread("waiter", () -> passed.set(b2.waitOnBarrier(TIMEOUT_MS, TimeUnit.MILLISECONDS)), err);
            awaitTimedWaiting(t, "the waiter to block on the barrier");
            eq(null, passed.get(), "waiter passed a set barrier");
            b1.removeBarrier();
            join(t, err);
            eq(Boolean.TRUE, passed.get(), "waiter result after removeBarrier");
            eq(null, c1.checkExists().forPath(p), "barrier node after removeBarrier");
        });

        register("double-barrier", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("dbl");
            DistributedDoubleBarrier d1 = new DistributedDoubleBarrier(c1, p, 2);
            DistributedDoubleBarrier d2 = new DistributedDoubleBarrier(c2, p, 2);
            Recorder rec = new Recorder();
            CountDownLatch mayLeave = new CountDownLatch(1);
            AtomicReference<Throwable> err = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            ts.add(thread("m1", () -> {
                rec.add("m1 entered=" + d1.enter(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                mayLeave.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                rec.add("m1 left=" + d1.leave(TIMEOUT_MS, TimeUnit.MILLISECONDS));
            }, err));
            awaitChildren(c1, p, k -> k.size() == 1, "the first member's node");
            eq(List.of(), rec.snapshot(), "first member entered alone");
            ts.add(thread("m2", () -> {
                rec.add("m2 entered=" + d2.enter(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                mayLeave.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                rec.add("m2 left=" + d2.leave(TIMEOUT_MS, TimeUnit.MILLISECONDS));
            }, err));
            List<String> entered = List.of(rec.next("enter"), rec.next("enter"));
            eq(List.of("m1 entered=true", "m2 entered=true"), sorted(entered), "enter results");
            List<String> kids = sorted(c1.getChildren().forPath(p));
            eq(3, kids.size(), "barrier children while both inside: " + kids);
            check(kids.contains("ready"), "no 'ready' node: " + kids);
            mayLeave.countDown();
            for (Thread t : ts) join(t, err);
            List<String> all = rec.snapshot();
            eq(List.of("m1 left=true", "m2 left=true"), sorted(all.subList(2, 4)), "leave results");
            eq(List.of(), childrenOrReaped(c1, p), "barrier children after leave");
        });

        register("simple-queue", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("q");
            SimpleDistributedQueue q1 = new SimpleDistributedQueue(c1, p);
            SimpleDistributedQueue q2 = new SimpleDistributedQueue(c2, p);
            eq(null, q2.poll(), "poll on empty queue");
            eq(null, q2.peek(), "peek on empty queue");
            expectThrows(NoSuchElementException.class, null, null, "element() on empty queue", q2::element);
            for (String s : List.of("a", "b", "c")) check(q1.offer(b(s)), "offer " + s);
            eq(List.of("qn-0000000000", "qn-0000000001", "qn-0000000002"), sorted(c1.getChildren().forPath(p)),
                    "queue nodes");
            eq(b("a"), q2.peek(), "peek");
            eq(b("a"), q2.take(), "take 1");
            eq(b("b"), q2.remove(), "remove 2");
            eq(b("c"), q2.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS), "poll 3");
            eq(null, q2.poll(), "poll on drained queue");
            // a blocked consumer gets an item offered later
            AtomicReference<byte[]> got = new AtomicReference<>();
            AtomicReference<Throwable> err = new AtomicReference<>();
            Thread t = thread("take", () -> got.set(q2.take()), err);
            awaitTimedWaiting(t, "take() to block");
            eq(null, got.get(), "take() returned from an empty queue");
            q1.offer(b("d"));
            join(t, err);
            eq(b("d"), got.get(), "blocked take");
            eq(List.of(), childrenOrReaped(c1, p), "queue nodes after draining");
        });

        register("distributed-queue", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("dq");
            QueueSerializer<String> ser = new QueueSerializer<String>() {
                public byte[] serialize(String item) {
                    return b(item);
                }

                public String deserialize(byte[] bytes) {
                    return s(bytes);
                }
            };
            Recorder rec = new Recorder();
            QueueConsumer<String> consumer = new QueueConsumer<String>() {
                public void consumeMessage(String message) {
                    rec.add(message);
                }

                public void stateChanged(CuratorFramework client, ConnectionState newState) {
                }
            };
            DistributedQueue<String> producer = QueueBuilder.builder(c1, null, ser, p).buildQueue();
            c.defer(producer);
            producer.start();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                producer.put("m" + i);
                expected.add("m" + i);
            }
            DistributedQueue<String> cons = QueueBuilder.builder(c2, consumer, ser, p).buildQueue();
            c.defer(cons);
            cons.start();
            for (int i = 5; i < 10; i++) {
                producer.put("m" + i);
                expected.add("m" + i);
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 10; i++) got.add(rec.next("item " + i));
            eq(expected, got, "items consumed in order");
            awaitChildren(c1, p, List::isEmpty, "queue nodes to be removed");
        });

        register("shared-count", c -> {
            CuratorFramework c1 = c.newClient(), c2 = c.newClient();
            String p = c.path("count");
            SharedCount sc1 = c.defer(new SharedCount(c1, p, 0));
            SharedCount sc2 = c.defer(new SharedCount(c2, p, 100));
            Recorder seen1 = new Recorder(), seen2 = new Recorder();
            sc1.addListener(listener(seen1));
            sc2.addListener(listener(seen2));
            sc1.start();
            sc2.start();
            eq(0, sc1.getCount(), "sc1 initial");
            eq(0, sc2.getCount(), "sc2 initial (seed ignored: node exists)");
            sc1.setCount(5);
            eq(5, sc1.getCount(), "sc1 after its own setCount");
            seen2.expect("5");
            eq(5, sc2.getCount(), "sc2 after event");
            VersionedValue<Integer> v = sc2.getVersionedValue();
            eq(5, v.getValue(), "versioned value");
            eq(1, v.getVersion(), "versioned version");
            check(sc2.trySetCount(v, 6), "trySetCount with current version failed");
            check(!sc2.trySetCount(v, 7), "trySetCount with stale version succeeded");
            eq(6, sc2.getCount(), "sc2 after rejected trySetCount");
            String e;
            while (!(e = seen1.next("count 6 at sc1")).equals("6"))
                check(e.equals("5"), "sc1 saw unexpected count " + e + " (all: " + seen1.snapshot() + ")");
            eq(6, sc1.getCount(), "sc1 after event");
            byte[] raw = c1.getData().forPath(p);
            eq(new byte[]{0, 0, 0, 6}, raw, "stored count");
        });
    }

    static SharedCountListener listener(Recorder rec) {
        return new SharedCountListener() {
            public void countHasChanged(SharedCountReader r, int newCount) {
                rec.add(String.valueOf(newCount));
            }

            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        };
    }

    // ------------------------------------------------------------------
    // Checks: caches
    // ------------------------------------------------------------------

    static String cd(ChildData d, Ctx c) {
        if (d == null) return "null";
        return c.rel(d.getPath()) + "=" + s(d.getData());
    }

    @SuppressWarnings("deprecation")
    static void pathChildrenCache(Ctx c) throws Exception {
        CuratorFramework cl = c.client;
        String root = c.path("pcc");
        cl.create().forPath(root, b("r"));
        cl.create().forPath(root + "/pre", b("p"));
        Recorder rec = new Recorder();
        PathChildrenCache pcc = c.defer(new PathChildrenCache(cl, root, true));
        pcc.getListenable().addListener((client, ev) -> {
            if (ev.getType() == PathChildrenCacheEvent.Type.INITIALIZED)
                rec.add("INITIALIZED " + ev.getInitialData().stream().map(d -> cd(d, c)).collect(Collectors.toList()));
            else if (ev.getData() != null)
                rec.add(ev.getType() + " " + cd(ev.getData(), c));
            else
                rec.add(ev.getType().toString());
        });
        pcc.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
        rec.expect("CHILD_ADDED pcc/pre=p");
        rec.expect("INITIALIZED [pcc/pre=p]");
        cl.create().forPath(root + "/a", b("1"));
        rec.expect("CHILD_ADDED pcc/a=1");
        cl.setData().forPath(root + "/a", b("2"));
        rec.expect("CHILD_UPDATED pcc/a=2");
        cl.create().forPath(root + "/a/x", b("3"));   // grandchild: no event
        cl.setData().forPath(root, b("r2"));          // the root itself: no event
        cl.delete().forPath(root + "/a/x");
        cl.delete().forPath(root + "/a");
        rec.expect("CHILD_REMOVED pcc/a=2");
        cl.create().forPath(root + "/zz", b("end"));
        rec.expect("CHILD_ADDED pcc/zz=end");
        eq(List.of("pcc/pre=p", "pcc/zz=end"),
                pcc.getCurrentData().stream().map(d -> cd(d, c)).collect(Collectors.toList()), "cache contents");
    }

    @SuppressWarnings("deprecation")
    static void nodeCache(Ctx c) throws Exception {
        CuratorFramework cl = c.client;
        String p = c.path("nc");
        Recorder rec = new Recorder();
        NodeCache nc = c.defer(new NodeCache(cl, p));
        nc.getListenable().addListener(() -> rec.add(cd(nc.getCurrentData(), c)));
        nc.start(true);
        eq(null, nc.getCurrentData(), "initial data of a missing node");
        cl.create().forPath(p, b("1"));
        rec.expect("nc=1");
        cl.setData().forPath(p, b("2"));
        rec.expect("nc=2");
        cl.delete().forPath(p);
        rec.expect("null");
        cl.create().forPath(p, b("3"));
        rec.expect("nc=3");
        cl.create().forPath(p + "/kid", b("k"));      // children are not watched
        cl.setData().forPath(p, b("4"));
        rec.expect("nc=4");
        eq(List.of("nc=1", "nc=2", "null", "nc=3", "nc=4"), rec.snapshot(), "all NodeCache events");
    }

    @SuppressWarnings("deprecation")
    static void treeCache(Ctx c) throws Exception {
        CuratorFramework cl = c.client;
        String root = c.path("tc");
        cl.create().forPath(root, b("r"));
        cl.create().forPath(root + "/pre", b("p"));
        Recorder rec = new Recorder();
        TreeCache tc = c.defer(TreeCache.newBuilder(cl, root).setCacheData(true).build());
        tc.getListenable().addListener((client, ev) -> {
            if (ev.getType() == TreeCacheEvent.Type.INITIALIZED) rec.add("INITIALIZED");
            else if (ev.getData() != null) rec.add(ev.getType() + " " + cd(ev.getData(), c));
            else rec.add(ev.getType().toString());
        });
        tc.start();
        List<String> initial = List.of(rec.next("initial 1"), rec.next("initial 2"));
        eq(List.of("NODE_ADDED tc/pre=p", "NODE_ADDED tc=r"), sorted(initial), "initial events");
        rec.expect("INITIALIZED");
        cl.create().forPath(root + "/a", b("1"));
        rec.expect("NODE_ADDED tc/a=1");
        cl.create().forPath(root + "/a/x", b("2"));
        rec.expect("NODE_ADDED tc/a/x=2");
        cl.setData().forPath(root + "/a/x", b("3"));
        rec.expect("NODE_UPDATED tc/a/x=3");
        cl.setData().forPath(root, b("r2"));
        rec.expect("NODE_UPDATED tc=r2");
        cl.delete().forPath(root + "/a/x");
        rec.expect("NODE_REMOVED tc/a/x=3");
        cl.delete().forPath(root + "/a");
        rec.expect("NODE_REMOVED tc/a=1");
        cl.create().forPath(root + "/zz", b("end"));
        rec.expect("NODE_ADDED tc/zz=end");
        eq("r2", s(tc.getCurrentData(root).getData()), "cached root");
        eq(sorted(List.of("pre", "zz")), sorted(tc.getCurrentChildren(root).keySet()), "cached children");
    }

    static {
        register("curator-cache", c -> {
            CuratorFramework cl = c.client;
            String root = c.path("cc");
            cl.create().forPath(root, b("r"));
            cl.create().forPath(root + "/pre", b("p"));
            Recorder rec = new Recorder();
            CuratorCache cache = c.defer(CuratorCache.build(cl, root));
            cache.listenable().addListener(new CuratorCacheListener() {
                public void event(Type type, ChildData oldData, ChildData data) {
                    switch (type) {
                        case NODE_CREATED:
                            rec.add("CREATED " + cd(data, c));
                            break;
                        case NODE_CHANGED:
                            rec.add("CHANGED " + cd(oldData, c) + " -> " + cd(data, c));
                            break;
                        default:
                            rec.add("DELETED " + cd(oldData, c));
                    }
                }

                public void initialized() {
                    rec.add("INITIALIZED");
                }
            });
            cache.start();
            List<String> initial = List.of(rec.next("initial 1"), rec.next("initial 2"));
            eq(List.of("CREATED cc/pre=p", "CREATED cc=r"), sorted(initial), "initial events");
            rec.expect("INITIALIZED");
            cl.create().forPath(root + "/a", b("1"));
            rec.expect("CREATED cc/a=1");
            cl.setData().forPath(root + "/a", b("2"));
            rec.expect("CHANGED cc/a=1 -> cc/a=2");
            cl.create().forPath(root + "/a/x", b("3"));
            rec.expect("CREATED cc/a/x=3");
            cl.setData().forPath(root, b("r2"));
            rec.expect("CHANGED cc=r -> cc=r2");
            cl.delete().forPath(root + "/a/x");
            rec.expect("DELETED cc/a/x=3");
            cl.delete().forPath(root + "/a");
            rec.expect("DELETED cc/a=2");
            cl.create().forPath(root + "/zz", b("end"));
            rec.expect("CREATED cc/zz=end");
            eq(sorted(List.of("cc=r2", "cc/pre=p", "cc/zz=end")),
                    sorted(cache.stream().map(d -> cd(d, c)).collect(Collectors.toList())), "cache contents");
            eq(false, cache.get(root + "/a").isPresent(), "deleted node still cached");
            // the cache works by a persistent recursive watch (addWatch)
            // when the client supports it, as the ZooKeeper 3.8 client does
            check(org.apache.curator.utils.Compatibility.hasPersistentWatchers(),
                    "Curator did not detect persistent watch support");
        });
        register("path-children-cache", CuratorCheck::pathChildrenCache);
        register("node-cache", CuratorCheck::nodeCache);
        register("tree-cache", CuratorCheck::treeCache);
    }

    // ------------------------------------------------------------------
    // Checks: watches and sessions
    // ------------------------------------------------------------------

    static Watcher recording(Recorder rec, Ctx c) {
        return ev -> {
            if (ev.getType() != Watcher.Event.EventType.None)
                rec.add(ev.getType() + " " + c.rel(ev.getPath()));
        };
    }

    static {
        register("watch-one-shot", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("w"), s = c.path("sentinel"), m = c.path("missing");
            cl.create().forPath(p, b("0"));
            cl.create().forPath(s, b("0"));
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            eq(b("0"), cl.getData().usingWatcher(w).forPath(p), "getData with watch");
            cl.setData().forPath(p, b("1"));
            rec.expect("NodeDataChanged w");
            cl.setData().forPath(p, b("2"));          // watch already fired
            cl.getData().usingWatcher(w).forPath(s);
            cl.setData().forPath(s, b("1"));
            rec.expect("NodeDataChanged sentinel");
            // exists watch on a missing node
            eq(null, cl.checkExists().usingWatcher(w).forPath(m), "checkExists with watch on missing");
            cl.create().forPath(m, b("m"));
            rec.expect("NodeCreated missing");
            // child watch
            eq(List.of(), cl.getChildren().usingWatcher(w).forPath(p), "getChildren with watch");
            cl.create().forPath(p + "/kid", b("k"));
            rec.expect("NodeChildrenChanged w");
            cl.delete().forPath(p + "/kid");          // child watch already fired
            // data watch fires NodeDeleted on delete; CuratorWatcher variant
            Recorder rec2 = new Recorder();
            CuratorWatcher cw = ev -> rec2.add(ev.getType() + " " + c.rel(ev.getPath()));
            cl.getData().usingWatcher(cw).forPath(m);
            cl.getData().usingWatcher(w).forPath(p);
            cl.delete().forPath(m);
            rec2.expect("NodeDeleted missing");
            cl.setData().forPath(p, b("3"));
            rec.expect("NodeDataChanged w");
            eq(List.of("NodeDataChanged w", "NodeDataChanged sentinel", "NodeCreated missing",
                    "NodeChildrenChanged w", "NodeDataChanged w"), rec.snapshot(), "all events");
            eq(List.of("NodeDeleted missing"), rec2.snapshot(), "CuratorWatcher events");
        });

        register("watch-persistent", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("p"), s = c.path("sentinel");
            cl.create().forPath(p, b("0"));
            cl.create().forPath(s, b("0"));
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            cl.watchers().add().withMode(AddWatchMode.PERSISTENT).usingWatcher(w).forPath(p);
            cl.setData().forPath(p, b("1"));
            rec.expect("NodeDataChanged p");
            cl.setData().forPath(p, b("2"));
            rec.expect("NodeDataChanged p");
            cl.create().forPath(p + "/c", b("c"));
            rec.expect("NodeChildrenChanged p");
            cl.setData().forPath(p + "/c", b("c2"));   // not watched: no event
            cl.delete().forPath(p + "/c");
            rec.expect("NodeChildrenChanged p");
            cl.delete().forPath(p);
            rec.expect("NodeDeleted p");
            cl.create().forPath(p, b("again"));
            rec.expect("NodeCreated p");
            cl.watchers().remove(w).forPath(p);
            rec.expect("PersistentWatchRemoved p");
            cl.setData().forPath(p, b("3"));           // removed: no event
            cl.getData().usingWatcher(w).forPath(s);
            cl.setData().forPath(s, b("1"));
            rec.expect("NodeDataChanged sentinel");
            eq(List.of("NodeDataChanged p", "NodeDataChanged p", "NodeChildrenChanged p", "NodeChildrenChanged p",
                    "NodeDeleted p", "NodeCreated p", "PersistentWatchRemoved p", "NodeDataChanged sentinel"),
                    rec.snapshot(), "all events");
            // addWatch on a missing node is allowed and fires on create
            Recorder rec2 = new Recorder();
            cl.watchers().add().withMode(AddWatchMode.PERSISTENT).usingWatcher(recording(rec2, c))
                    .forPath(c.path("later"));
            cl.create().forPath(c.path("later"), b("l"));
            rec2.expect("NodeCreated later");
        });

        register("watch-recursive", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("r"), s = c.path("sentinel");
            cl.create().forPath(p, b("0"));
            cl.create().forPath(s, b("0"));
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            cl.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(w).forPath(p);
            cl.create().forPath(p + "/a", b("1"));
            cl.setData().forPath(p + "/a", b("2"));
            cl.create().forPath(p + "/a/b", b("3"));
            cl.setData().forPath(p, b("4"));
            cl.delete().forPath(p + "/a/b");
            cl.delete().forPath(p + "/a");
            cl.create().forPath(c.path("rr"), b("sibling")); // prefix but not below: no event
            cl.setData().forPath(p, b("end"));
            List<String> expected = List.of("NodeCreated r/a", "NodeDataChanged r/a", "NodeCreated r/a/b",
                    "NodeDataChanged r", "NodeDeleted r/a/b", "NodeDeleted r/a", "NodeDataChanged r");
            for (String e : expected) rec.expect(e);
            cl.watchers().removeAll().forPath(p);
            rec.expect("PersistentWatchRemoved r");
            cl.create().forPath(p + "/after", b("x"));   // removed: no event
            cl.getData().usingWatcher(w).forPath(s);
            cl.setData().forPath(s, b("1"));
            rec.expect("NodeDataChanged sentinel");
            List<String> all = new ArrayList<>(expected);
            all.add("PersistentWatchRemoved r");
            all.add("NodeDataChanged sentinel");
            eq(all, rec.snapshot(), "all events");
        });

        register("watch-remove", c -> {
            CuratorFramework cl = c.client;
            String p = c.path("n"), s = c.path("sentinel");
            cl.create().forPath(p, b("0"));
            cl.create().forPath(s, b("0"));
            Recorder rd = new Recorder(), rc = new Recorder();
            Watcher wd = recording(rd, c), wc = recording(rc, c);
            cl.getData().usingWatcher(wd).forPath(p);
            cl.getChildren().usingWatcher(wc).forPath(p);
            cl.watchers().remove(wd).ofType(Watcher.WatcherType.Data).forPath(p);
            rd.expect("DataWatchRemoved n");
            cl.setData().forPath(p, b("1"));           // data watch gone: no event
            cl.create().forPath(p + "/kid", b("k"));   // child watch still there
            rc.expect("NodeChildrenChanged n");
            expectThrows(KeeperException.NoWatcherException.class, KeeperException.Code.NOWATCHER, p,
                    "removing a watcher that is not set", () -> cl.watchers().remove(wd).forPath(p));
            cl.watchers().remove(wd).quietly().forPath(p);
            // removeAll of one type
            cl.getChildren().usingWatcher(wc).forPath(p);
            cl.getData().usingWatcher(wd).forPath(p);
            cl.watchers().removeAll().ofType(Watcher.WatcherType.Children).forPath(p);
            rc.expect("ChildWatchRemoved n");
            cl.delete().forPath(p + "/kid");           // no child watch left
            cl.setData().forPath(p, b("2"));           // the data watch is still set
            rd.expect("NodeDataChanged n");
            cl.getData().usingWatcher(wc).forPath(s);
            cl.setData().forPath(s, b("1"));
            rc.expect("NodeDataChanged sentinel");
            eq(List.of("DataWatchRemoved n", "NodeDataChanged n"), rd.snapshot(), "data watcher events");
            eq(List.of("NodeChildrenChanged n", "ChildWatchRemoved n", "NodeDataChanged sentinel"),
                    rc.snapshot(), "child watcher events");
        });

        register("session-ephemeral", c -> {
            CuratorFramework watcher = c.client;
            CuratorFramework owner = startClient(b -> { });
            AtomicReference<CuratorFramework> toClose = new AtomicReference<>(owner);
            c.defer(() -> { CuratorFramework o = toClose.getAndSet(null); if (o != null) o.close(); });
            long sid = sessionId(owner);
            String p = c.path("eph");
            owner.create().withMode(CreateMode.EPHEMERAL).forPath(p, b("e"));
            String seq = owner.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(c.path("es-"), b("s"));
            eq(c.path("es-0000000001"), seq, "ephemeral sequential path");
            eq(sid, watcher.checkExists().forPath(p).getEphemeralOwner(), "ephemeralOwner as seen by another session");
            check(sid != sessionId(watcher), "two clients share a session");
            Recorder rec = new Recorder();
            watcher.getData().usingWatcher(recording(rec, c)).forPath(p);
            watcher.getChildren().usingWatcher(recording(rec, c)).forPath(c.dir);
            toClose.set(null);
            owner.close();
            List<String> evs = List.of(rec.next("NodeDeleted eph"), rec.next("NodeChildrenChanged ."));
            eq(List.of("NodeChildrenChanged .", "NodeDeleted eph"), sorted(evs), "events on close of the owner");
            eq(null, watcher.checkExists().forPath(p), "ephemeral after owner closed");
            eq(List.of(), watcher.getChildren().forPath(c.dir), "children after owner closed");
        });
    }

    // ------------------------------------------------------------------
    // Checks: server-side surroundings Curator touches
    // ------------------------------------------------------------------

    static {
        register("server-config", c -> {
            CuratorFramework cl = c.client;
            // Curator's EnsembleTracker reads (and watches) the dynamic
            // config; a standalone server without reconfig has it empty.
            Stat st = new Stat();
            eq(new byte[0], cl.getConfig().storingStatIn(st).forEnsemble(), "getConfig data");
            eq(new Stat(0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0), st, "getConfig Stat");
            eq(List.of("config", "quota"), sorted(cl.getChildren().forPath("/zookeeper")), "children of /zookeeper");
            eq(List.of(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)), cl.getACL().forPath("/zookeeper/config"),
                    "ACL of /zookeeper/config");
            expectThrows(KeeperException.NoAuthException.class, KeeperException.Code.NOAUTH, "/zookeeper/config",
                    "setData /zookeeper/config", () -> cl.setData().forPath("/zookeeper/config", b("x")));
            expectThrows(KeeperException.BadArgumentsException.class, KeeperException.Code.BADARGUMENTS, "/zookeeper",
                    "delete /zookeeper", () -> cl.delete().forPath("/zookeeper"));
            expectThrows(KeeperException.ReconfigDisabledException.class, KeeperException.Code.RECONFIGDISABLED, null,
                    "reconfig", () -> cl.reconfig().leaving("1").forEnsemble());
            // TTL nodes need zookeeper.extendedTypesEnabled, off by default
            expectThrows(KeeperException.UnimplementedException.class, KeeperException.Code.UNIMPLEMENTED,
                    c.path("ttl"), "TTL node without extended types",
                    () -> cl.create().withTtl(1000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(c.path("ttl")));
            eq(null, cl.checkExists().forPath(c.path("ttl")), "rejected TTL node");
        });

        register("many-children", c -> {
            // 2000 children with 150-character names, created by 10
            // transactions of 200 creates: ~330 KB multi requests in all
            // and one ~310 KB getChildren reply.
            CuratorFramework cl = c.client;
            String pad = "x".repeat(140);
            List<String> names = new ArrayList<>();
            for (int t = 0; t < 10; t++) {
                List<CuratorOp> ops = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    String n = String.format("%s-%04d-", pad, t * 200 + i);
                    names.add(n);
                    ops.add(cl.transactionOp().create().forPath(c.path(n), b("v" + (t * 200 + i))));
                }
                List<CuratorTransactionResult> res = cl.transaction().forOperations(ops);
                eq(200, res.size(), "results of a 200-op transaction");
                eq(c.path(names.get(t * 200 + 199)), res.get(199).getResultPath(), "last result path");
            }
            Stat st = new Stat();
            List<String> kids = cl.getChildren().storingStatIn(st).forPath(c.dir);
            eq(2000, kids.size(), "number of children");
            eq(sorted(names), sorted(kids), "children");
            eq(2000, st.getNumChildren(), "numChildren");
            eq(2000, st.getCversion(), "cversion");
            eq(b("v1234"), cl.getData().forPath(c.path(names.get(1234))), "data of one child");
            for (int t = 0; t < 10; t++) {
                List<CuratorOp> ops = new ArrayList<>();
                for (int i = 0; i < 200; i++) ops.add(cl.transactionOp().delete().forPath(c.path(names.get(t * 200 + i))));
                cl.transaction().forOperations(ops);
            }
            eq(List.of(), cl.getChildren().forPath(c.dir), "children after deleting all");
        });

        register("large-data", c -> {
            CuratorFramework cl = c.client;
            byte[] big = new byte[1_000_000];     // below jute.maxbuffer (1 MiB - 1) with the header
            new Random(7).nextBytes(big);
            String p = c.path("big");
            Stat st = new Stat();
            cl.create().storingStatIn(st).forPath(p, big);
            eq(big.length, st.getDataLength(), "dataLength");
            eq(big, cl.getData().forPath(p), "1 MB of data read back");
            BlockingQueue<CuratorEvent> q = new LinkedBlockingQueue<>();
            cl.getData().inBackground((client, ev) -> q.add(ev)).forPath(p);
            eq(big, poll(q, "background getData").getData(), "1 MB read in background");
            byte[] big2 = Arrays.copyOf(big, 999_999);
            big2[0] ^= 1;
            eq(1, cl.setData().forPath(p, big2).getVersion(), "version after 1 MB setData");
            eq(big2, cl.getData().forPath(p), "1 MB after setData");
        });
    }

    // ------------------------------------------------------------------
    // Checks: connection loss and session expiry (through a TCP proxy)
    // ------------------------------------------------------------------

    /** A loopback TCP proxy to the server that can cut every connection
     *  and refuse new ones ("block"), so a client loses its connection
     *  while the server and its session live on. */
    static class Proxy implements AutoCloseable {
        final ServerSocket listener;
        final String host;
        final int port;
        volatile boolean blocked;
        final List<Socket> open = Collections.synchronizedList(new ArrayList<>());

        Proxy(String target) throws IOException {
            int colon = target.lastIndexOf(':');
            host = target.substring(0, colon);
            port = Integer.parseInt(target.substring(colon + 1).split(",")[0]);
            listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            Thread t = new Thread(this::acceptLoop, "proxy-accept");
            t.setDaemon(true);
            t.start();
        }

        String connectString() {
            return "127.0.0.1:" + listener.getLocalPort();
        }

        void acceptLoop() {
            while (!listener.isClosed()) {
                try {
                    Socket in = listener.accept();
                    if (blocked) {
                        in.close();
                        continue;
                    }
                    Socket out = new Socket(host, port);
                    open.add(in);
                    open.add(out);
                    pump(in, out);
                    pump(out, in);
                } catch (IOException e) {
                    // listener closed, or the server refused: the client retries
                }
            }
        }

        void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try (InputStream is = from.getInputStream(); OutputStream os = to.getOutputStream()) {
                    int n;
                    while ((n = is.read(buf)) > 0) os.write(buf, 0, n);
                } catch (IOException e) {
                    // connection cut
                } finally {
                    quietClose(from);
                    quietClose(to);
                }
            }, "proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        void block() {
            blocked = true;
            synchronized (open) {
                for (Socket s : open) quietClose(s);
                open.clear();
            }
        }

        void unblock() {
            blocked = false;
        }

        public void close() {
            quietClose(listener);
            block();
        }

        static void quietClose(AutoCloseable s) {
            try {
                s.close();
            } catch (Exception e) {
                // already closed
            }
        }
    }

    static {
        register("reconnect-watches", c -> {
            Proxy proxy = c.defer(new Proxy(connect));
            Recorder states = new Recorder();
            CuratorFramework c2 = c.defer(builder(proxy.connectString()).ensembleTracker(false).build());
            c2.getConnectionStateListenable().addListener((cl, st) -> states.add(st.toString()));
            c2.start();
            states.expect("CONNECTED");
            long sid = sessionId(c2);
            CuratorFramework cl = c.client;
            String p = c.path("p"), d = c.path("d"), m = c.path("m"), r = c.path("r"), e = c.path("eph");
            for (String x : List.of(p, d, r)) cl.create().forPath(x, b("0"));
            c2.create().withMode(CreateMode.EPHEMERAL).forPath(e, b("e"));
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            c2.getData().usingWatcher(w).forPath(p);
            c2.getChildren().usingWatcher(w).forPath(d);
            eq(null, c2.checkExists().usingWatcher(w).forPath(m), "exists on missing");
            c2.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(w).forPath(r);

            proxy.block();
            states.expect("SUSPENDED");
            // changes the disconnected client must learn about on reconnect
            cl.setData().forPath(p, b("1"));
            cl.create().forPath(d + "/kid", b("k"));
            cl.create().forPath(m, b("m"));
            cl.create().forPath(r + "/missed", b("x"));   // persistent watches do not replay
            proxy.unblock();
            states.expect("RECONNECTED");
            eq(sid, sessionId(c2), "session id after reconnect");
            List<String> replayed = List.of(rec.next("replayed 1"), rec.next("replayed 2"), rec.next("replayed 3"));
            eq(List.of("NodeChildrenChanged d", "NodeCreated m", "NodeDataChanged p"), sorted(replayed),
                    "events replayed by SetWatches after reconnect");
            cl.create().forPath(r + "/after", b("y"));
            rec.expect("NodeCreated r/after");
            eq(List.of(), rec.snapshot().subList(4, rec.snapshot().size()), "extra events");
            Stat es = cl.checkExists().forPath(e);
            check(es != null, "ephemeral lost over a reconnect within the session");
            eq(sid, es.getEphemeralOwner(), "ephemeral owner after reconnect");
            eq(List.of("CONNECTED", "SUSPENDED", "RECONNECTED"), states.snapshot(), "connection states");
        });

        register("reconnect-many-watches", c -> {
            // 1000 data watches on 150-character paths: on reconnect the
            // client re-registers them in several SetWatches packets
            // (it splits them at 128 KB), and every missed change fires.
            Proxy proxy = c.defer(new Proxy(connect));
            Recorder states = new Recorder();
            CuratorFramework c2 = c.defer(builder(proxy.connectString()).ensembleTracker(false).build());
            c2.getConnectionStateListenable().addListener((cl, st) -> states.add(st.toString()));
            c2.start();
            states.expect("CONNECTED");
            CuratorFramework cl = c.client;
            String pad = "w".repeat(140);
            List<String> names = new ArrayList<>();
            for (int t = 0; t < 5; t++) {
                List<CuratorOp> ops = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    String n = String.format("%s-%04d", pad, t * 200 + i);
                    names.add(n);
                    ops.add(cl.transactionOp().create().forPath(c.path(n), b("0")));
                }
                cl.transaction().forOperations(ops);
            }
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            for (String n : names) c2.getData().usingWatcher(w).forPath(c.path(n));
            proxy.block();
            states.expect("SUSPENDED");
            for (int t = 0; t < 5; t++) {
                List<CuratorOp> ops = new ArrayList<>();
                for (int i = 0; i < 200; i++) ops.add(cl.transactionOp().setData().forPath(c.path(names.get(t * 200 + i)), b("1")));
                cl.transaction().forOperations(ops);
            }
            proxy.unblock();
            states.expect("RECONNECTED");
            List<String> got = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) got.add(rec.next("replayed event " + i));
            List<String> expected = new ArrayList<>();
            for (String n : names) expected.add("NodeDataChanged " + n);
            eq(sorted(expected), sorted(got), "replayed events");
            // a sentinel proves there were no more
            String s = c.path("sentinel");
            c2.checkExists().usingWatcher(w).forPath(s);
            cl.create().forPath(s, b("s"));
            rec.expect("NodeCreated sentinel");
        });

        register("session-expiry", c -> {
            Proxy proxy = c.defer(new Proxy(connect));
            Recorder states = new Recorder();
            CuratorFramework c2 = c.defer(builder(proxy.connectString()).ensembleTracker(false).build());
            c2.getConnectionStateListenable().addListener((cl, st) -> states.add(st.toString()));
            c2.start();
            states.expect("CONNECTED");
            ZooKeeper zk = c2.getZookeeperClient().getZooKeeper();
            long sid = zk.getSessionId();
            byte[] passwd = zk.getSessionPasswd();
            String e = c.path("eph");
            c2.create().withMode(CreateMode.EPHEMERAL).forPath(e, b("e"));
            Recorder rec = new Recorder();
            eq(sid, c.client.checkExists().usingWatcher(recording(rec, c)).forPath(e).getEphemeralOwner(),
                    "ephemeral owner");

            proxy.block();
            states.expect("SUSPENDED");
            // Attach to the session from another connection and close it:
            // the session ends while its first client is cut off.
            CountDownLatch attached = new CountDownLatch(1);
            ZooKeeper other = new ZooKeeper(connect, 30_000, ev -> {
                if (ev.getState() == Watcher.Event.KeeperState.SyncConnected) attached.countDown();
            }, sid, passwd);
            try {
                check(attached.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "could not attach to the session");
                eq(sid, other.getSessionId(), "attached session id");
                eq(b("e"), other.getData(e, false, null), "read through the attached session");
            } finally {
                other.close();
            }
            rec.expect("NodeDeleted eph");
            eq(null, c.client.checkExists().forPath(e), "ephemeral after its session closed");

            proxy.unblock();
            states.expect("LOST");
            states.expect("RECONNECTED");
            long sid2 = sessionId(c2);
            check(sid2 != sid && sid2 != 0, "new session id " + Long.toHexString(sid2));
            c2.create().withMode(CreateMode.EPHEMERAL).forPath(e, b("e2"));
            eq(sid2, c.client.checkExists().forPath(e).getEphemeralOwner(), "owner of the new ephemeral");
            eq(List.of("CONNECTED", "SUSPENDED", "LOST", "RECONNECTED"), states.snapshot(), "connection states");
        });

        register("persistent-node", c -> {
            CuratorFramework c1 = c.newClient();
            String p = c.path("pn");
            Recorder rec = new Recorder();
            Watcher w = recording(rec, c);
            c.client.watchers().add().withMode(AddWatchMode.PERSISTENT).usingWatcher(w).forPath(p);
            c.defer(() -> c.client.watchers().remove(w).quietly().forPath(p));
            PersistentNode pn = new PersistentNode(c1, CreateMode.EPHEMERAL, false, p, b("v1"));
            pn.start();
            AtomicReference<PersistentNode> open = new AtomicReference<>(pn);
            c.defer(() -> { PersistentNode x = open.getAndSet(null); if (x != null) x.close(); });
            check(pn.waitForInitialCreate(TIMEOUT_MS, TimeUnit.MILLISECONDS), "initial create did not happen");
            rec.expect("NodeCreated pn");
            eq(p, pn.getActualPath(), "actual path");
            Stat st = new Stat();
            eq(b("v1"), c.client.getData().storingStatIn(st).forPath(p), "node data");
            eq(sessionId(c1), st.getEphemeralOwner(), "ephemeral owner");
            // somebody deletes it: the recipe puts it back
            c.client.delete().forPath(p);
            rec.expect("NodeDeleted pn");
            rec.expect("NodeCreated pn");
            eq(b("v1"), c.client.getData().forPath(p), "data of the re-created node");
            pn.setData(b("v2"));
            rec.expect("NodeDataChanged pn");
            eq(b("v2"), c.client.getData().forPath(p), "data after setData");
            open.set(null);
            pn.close();
            rec.expect("NodeDeleted pn");
            eq(null, c.client.checkExists().forPath(p), "node after close");
        });

        register("watched-listener", c -> {
            CuratorFramework c1 = c.newClient();
            Recorder rec = new Recorder();
            CuratorListener l = (client, ev) -> {
                if (ev.getType() == CuratorEventType.WATCHED
                        && ev.getWatchedEvent().getType() == Watcher.Event.EventType.None)
                    return; // connection state changes (SyncConnected) also arrive here
                if (ev.getType() == CuratorEventType.WATCHED)
                    rec.add("WATCHED " + ev.getWatchedEvent().getType() + " " + c.rel(ev.getPath()));
                else if (ev.getType() == CuratorEventType.CHILDREN)
                    rec.add("CHILDREN " + c.rel(ev.getPath()) + " " + sorted(ev.getChildren()));
                else
                    rec.add(ev.getType() + " " + c.rel(ev.getPath()) + " rc=" + ev.getResultCode());
            };
            c1.getCuratorListenable().addListener(l);
            String p = c.path("p"), m = c.path("m");
            c1.create().forPath(p, b("0"));
            eq(b("0"), c1.getData().watched().forPath(p), "getData watched");
            c.client.setData().forPath(p, b("1"));
            rec.expect("WATCHED NodeDataChanged p");
            eq(null, c1.checkExists().watched().forPath(m), "checkExists watched");
            c.client.create().forPath(m, b("m"));
            rec.expect("WATCHED NodeCreated m");
            c1.getChildren().watched().inBackground().forPath(c.dir);
            rec.expect("CHILDREN . [m, p]");
            c.client.delete().forPath(m);
            rec.expect("WATCHED NodeChildrenChanged .");
            c1.setData().inBackground().forPath(p, b("2"));
            rec.expect("SET_DATA p rc=0");
            c1.getCuratorListenable().removeListener(l);
        });
    }

    // ------------------------------------------------------------------
    // main
    // ------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--list")) {
            CHECKS.keySet().forEach(System.out::println);
            return;
        }
        int first = 0;
        if (args.length >= 2 && args[0].equals("--containers")) {
            containersConnect = args[1];
            first = 2;
        }
        if (args.length <= first) {
            System.err.println("usage: CuratorCheck [--containers host:port] host:port [check ...] | --list");
            System.exit(2);
        }
        connect = args[first];
        if (containersConnect == null) containersConnect = connect;
        List<String> names = new ArrayList<>();
        for (int i = first + 1; i < args.length; i++) {
            if (!CHECKS.containsKey(args[i])) {
                System.err.println("unknown check: " + args[i] + " (see --list)");
                System.exit(2);
            }
            names.add(args[i]);
        }
        if (names.isEmpty()) names.addAll(CHECKS.keySet());

        String base = "/curator-check-" + UUID.randomUUID().toString().substring(0, 8);
        int failed = 0;
        CuratorFramework client;
        try {
            client = startClient(b -> { });
            client.create().creatingParentsIfNeeded().forPath(base, new byte[0]);
        } catch (Exception e) {
            for (String n : names) System.out.println("FAIL " + n + ": setup: " + e);
            System.out.flush();
            System.exit(1);
            return;
        }
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "check");
            t.setDaemon(true);
            return t;
        });
        for (String name : names) {
            long t0 = System.nanoTime();
            System.err.println("== " + name);
            String reason = null;
            Ctx ctx = new Ctx(client, base + "/" + name);
            Future<?> f = pool.submit(() -> {
                try {
                    client.create().forPath(ctx.dir, new byte[0]);
                    CHECKS.get(name).run(ctx);
                } finally {
                    ctx.closeAll();
                }
                return null;
            });
            try {
                f.get(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                reason = "check did not finish within " + CHECK_TIMEOUT_MS + " ms";
            } catch (ExecutionException e) {
                Throwable t = e.getCause();
                if (t instanceof CheckFailed) {
                    reason = t.getMessage();
                } else {
                    reason = "unexpected " + t;
                    t.printStackTrace();
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.err.println("-- " + name + ": " + ms + " ms");
            if (reason == null) {
                System.out.println("PASS " + name);
            } else {
                failed++;
                System.out.println("FAIL " + name + ": " + reason.replace('\n', ' '));
            }
            System.out.flush();
        }
        try {
            client.delete().deletingChildrenIfNeeded().forPath(base);
        } catch (Exception e) {
            System.err.println("cleanup of " + base + " failed: " + e);
        }
        client.close();
        System.exit(failed == 0 ? 0 : 1);
    }
}
