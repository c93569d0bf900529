package org.tidemark.internal;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;

/**
 * The dependencies between {@code org.tidemark} packages as the JDK's {@code jdeps} sees them in
 * compiled classes, and the cycles among them. Used by the package-cycle tests of each module.
 */
public final class PackageGraph {
  private static final Pattern EDGE = Pattern.compile("^\\s+(org\\.tidemark\\.\\S+)\\s+->\\s+(org\\.tidemark\\.\\S+)\\s");

  /** For each package, the packages it uses, with one class edge that shows it ("A -> B"). */
  private final Map<String, Map<String, String>> edges = new TreeMap<>();

  /** A graph from explicit class edges ({@code from} class name, {@code to} class name). */
  public PackageGraph() {}

  /** Adds the dependency of class {@code from} on class {@code to} (edges inside one package are ignored). */
  public void addClassEdge(String from, String to) {
    String a = packageOf(from);
    String b = packageOf(to);
    edges.computeIfAbsent(a, k -> new TreeMap<>());
    edges.computeIfAbsent(b, k -> new TreeMap<>());
    if (!a.equals(b)) {
      edges.get(a).putIfAbsent(b, from + " -> " + to);
    }
  }

  /**
   * Runs {@code jdeps -verbose:class} on the given class folders or jars together and reads the
   * dependencies from one {@code org.tidemark} class to another.
   */
  public static PackageGraph of(List<Path> classes) {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps")
        .orElseThrow(() -> new AssertionError("this JDK has no jdeps tool"));
    List<String> args = new ArrayList<>(List.of("-verbose:class", "-filter:none", "-e", "org\\.tidemark\\..*"));
    // the classes as on a class path: a library module's module-info would make jdeps resolve every
    // module it requires first, and the graph is about packages, not modules
    List<Path> copies = classes.stream().map(PackageGraph::withoutModuleInfo).toList();
    copies.forEach(p -> args.add(p.toString()));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
    copies.forEach(PackageGraph::delete);
    if (rc != 0) {
      throw new AssertionError("jdeps " + args + " exited " + rc + ": " + err + out);
    }
    PackageGraph g = new PackageGraph();
    for (String line : out.toString().split("\n")) {
      Matcher m = EDGE.matcher(line);
      if (m.find()) {
        g.addClassEdge(m.group(1), m.group(2));
      }
    }
    return g;
  }

  /** A copy of a class folder or jar without its module-info, in a temporary folder. */
  private static Path withoutModuleInfo(Path classes) {
    try {
      Path copy = java.nio.file.Files.createTempDirectory("package-graph");
      if (java.nio.file.Files.isDirectory(classes)) {
        copyClasses(classes, copy);
      } else {
        try (java.nio.file.FileSystem jar = java.nio.file.FileSystems.newFileSystem(classes)) {
          copyClasses(jar.getPath("/"), copy);
        }
      }
      return copy;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void delete(Path folder) {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(folder)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(f);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void copyClasses(Path from, Path to) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName() == null ? "" : f.getFileName().toString();
        if (name.endsWith(".class") && !name.equals("module-info.class") && !f.toString().contains("META-INF")) {
          Path target = to.resolve(from.relativize(f).toString());
          java.nio.file.Files.createDirectories(target.getParent());
          java.nio.file.Files.copy(f, target);
        }
      }
    }
  }

  /** The packages seen. */
  public Set<String> packages() {
    return edges.keySet();
  }

  /** The packages {@code pkg} uses. */
  public Set<String> uses(String pkg) {
    return edges.getOrDefault(pkg, Map.of()).keySet();
  }

  /**
   * The package cycles, one per strongly connected set of packages, each as a path that returns to
   * its start with the class edge behind every step: "a -> b (A -> B), b -> a (B -> A)". Empty when
   * the graph has no cycle.
   */
  public List<String> cycles() {
    List<String> found = new ArrayList<>();
    for (Set<String> component : components()) {
      if (component.size() > 1) {
        found.add(describe(cycleIn(component)));
      }
    }
    return found;
  }

  /** The package graph, one "a -> b" line per edge, sorted. */
  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    edges.forEach((a, bs) -> bs.keySet().forEach(b -> s.append(a).append(" -> ").append(b).append('\n')));
    return s.toString();
  }

  private String describe(List<String> cycle) {
    StringBuilder s = new StringBuilder(String.join(" -> ", cycle)).append(" (");
    for (int i = 0; i + 1 < cycle.size(); i++) {
      s.append(i == 0 ? "" : "; ").append(edges.get(cycle.get(i)).get(cycle.get(i + 1)));
    }
    return s.append(')').toString();
  }

  /** A shortest cycle through the smallest package of a strongly connected {@code component}. */
  private List<String> cycleIn(Set<String> component) {
    String start = new TreeSet<>(component).first();
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>(List.of(start));
    while (!queue.isEmpty()) {
      String a = queue.poll();
      for (String b : uses(a)) {
        if (!component.contains(b)) {
          continue;
        }
        if (b.equals(start)) {
          List<String> path = new ArrayList<>();
          for (String p = a; p != null; p = parent.get(p)) {
            path.add(0, p);
          }
          path.add(start);
          return path;
        }
        if (!parent.containsKey(b) && !b.equals(start)) {
          parent.put(b, a);
          queue.add(b);
        }
      }
    }
    throw new IllegalStateException("no cycle through " + start + " in " + component);
  }

  /** Tarjan's strongly connected components. */
  private List<Set<String>> components() {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<Set<String>> out = new ArrayList<>();
    for (String p : edges.keySet()) {
      if (!index.containsKey(p)) {
        strongConnect(p, index, low, stack, onStack, out);
      }
    }
    return out;
  }

  private void strongConnect(String v, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack,
      Set<String> onStack, List<Set<String>> out) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (String w : uses(v)) {
      if (!index.containsKey(w)) {
        strongConnect(w, index, low, stack, onStack, out);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> component = new TreeSet<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      out.add(component);
    }
  }

  private static String packageOf(String className) {
    int dot = className.lastIndexOf('.');
    return dot < 0 ? "" : className.substring(0, dot);
  }

  /** Where the compiled class {@code c} was loaded from: its module's classes folder or jar. */
  public static Path classesOf(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new AssertionError(e);
    }
  }
}
