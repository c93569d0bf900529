package org.tidemark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * libvirt as the oracle: the same operations go through {@code virsh -c test:///default} (on its
 * domain {@code test}) and through {@link MomentTree}; after every operation both must agree on
 * success or refusal (with the same message for refusals the tree words like libvirt), and at the
 * end on every moment's parent, children and descendant counts, the roots, the leaves, a valid
 * topological order, and the current moment (probed as the parent virsh gives a new checkpoint).
 */
class MomentTreeVirshTest {
  @TempDir Path dir;

  /** One operation, as a virsh command and as a tree call. */
  private record Op(String command, java.util.function.Consumer<MomentTree<Checkpoint>> apply) {}

  private Checkpoint cp(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).build();
  }

  private Op create(String name) {
    return new Op("checkpoint-create-as test " + name, t -> t.create(cp(name, null)));
  }

  private Op redefine(String name, String parent) throws Exception {
    Path xml = dir.resolve("redefine-" + name + "-" + parent + ".xml");
    Files.writeString(xml, "<domaincheckpoint>\n  <name>" + name + "</name>\n"
        + (parent == null ? "" : "  <parent>\n    <name>" + parent + "</name>\n  </parent>\n")
        + "  <creationTime>1</creationTime>\n</domaincheckpoint>\n");
    return new Op("checkpoint-create test " + xml + " --redefine", t -> t.redefine(cp(name, parent)));
  }

  private Op delete(String name, MomentTree.DeleteMode mode) {
    String flag = switch (mode) {
      case SINGLE -> "";
      case CHILDREN -> " --children";
      case CHILDREN_ONLY -> " --children-only";
    };
    return new Op("checkpoint-delete test " + name + flag, t -> t.delete(name, mode));
  }

  /** Runs the ops on both sides and compares them step by step and at the end. */
  private void compare(List<Op> ops, String label) throws Exception {
    MomentTree<Checkpoint> tree = new MomentTree<>();
    List<String> commands = new ArrayList<>();
    List<String> ourErrors = new ArrayList<>();
    for (Op op : ops) {
      commands.add(op.command());
      try {
        op.apply().accept(tree);
        ourErrors.add(null);
      } catch (MomentTreeException e) {
        ourErrors.add(e.getMessage());
      }
    }
    // final state: every name's info, the topological order, then a probe of the current moment
    List<String> names = tree.topological().stream().map(Moment::name).toList();
    commands.add("checkpoint-list test --name");
    commands.add("checkpoint-list test --topological --name");
    commands.add("checkpoint-list test --roots --name");
    commands.add("checkpoint-list test --leaves --name");
    commands.add("checkpoint-list test --tree");
    for (String n : names) {
      commands.add("checkpoint-info test " + n);
    }
    for (String n : names) {
      commands.add("checkpoint-parent test " + n);
    }
    commands.add("checkpoint-create-as test zz-probe");
    commands.add("checkpoint-info test zz-probe");

    List<Virsh.Reply> replies = Virsh.run(dir, commands);
    for (int i = 0; i < ops.size(); i++) {
      Virsh.Reply r = replies.get(i);
      String ours = ourErrors.get(i);
      String where = label + ", step " + i + " '" + r.command() + "': virsh said '" + r.output() + "', we said " + ours;
      assertEquals(r.failed(), ours != null, where);
      if (ours != null && !(ours.startsWith("no domain moment"))) {
        assertTrue(r.output().endsWith(ours), where);
      }
    }
    int at = ops.size();
    assertEquals(new TreeSet<>(names), new TreeSet<>(lines(replies.get(at).output())), label + ": names");
    List<String> topo = lines(replies.get(at + 1).output());
    assertEquals(new TreeSet<>(names), new TreeSet<>(topo), label + ": topological names");
    assertEquals(sorted(tree.roots()), new TreeSet<>(lines(replies.get(at + 2).output())), label + ": roots");
    assertEquals(sorted(tree.leaves()), new TreeSet<>(lines(replies.get(at + 3).output())), label + ": leaves");
    assertEquals(parentsOf(tree), treeParents(replies.get(at + 4).output()), label + ": checkpoint-list --tree");
    Map<String, Map<String, String>> info = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      info.put(names.get(i), fields(replies.get(at + 5 + i).output()));
    }
    for (String n : names) {
      Map<String, String> f = info.get(n);
      assertEquals(tree.require(n).parentName().orElse("-"), f.get("Parent"), label + ": parent of " + n);
      assertEquals(String.valueOf(tree.children(n).size()), f.get("Children"), label + ": children of " + n);
      assertEquals(String.valueOf(tree.descendants(n).size()), f.get("Descendants"), label + ": descendants of " + n);
      Optional<String> parent = tree.require(n).parentName();
      parent.ifPresent(p -> assertTrue(topo.indexOf(p) < topo.indexOf(n), label + ": virsh's order puts " + p + " after " + n));
    }
    for (int i = 0; i < names.size(); i++) {
      Virsh.Reply parentReply = replies.get(at + 5 + names.size() + i);
      Optional<String> ours = tree.require(names.get(i)).parentName();
      assertEquals(ours.isEmpty(), parentReply.failed(), label + ": " + parentReply);
      ours.ifPresent(p -> assertEquals(p, parentReply.output(), label + ": checkpoint-parent"));
    }
    Map<String, String> probe = fields(replies.get(replies.size() - 1).output());
    assertEquals(tree.current().map(Moment::name).orElse("-"), probe.get("Parent"), label + ": current moment");
  }

  private static Map<String, String> parentsOf(MomentTree<Checkpoint> tree) {
    Map<String, String> m = new TreeMap<>();
    tree.topological().forEach(c -> m.put(c.name(), c.parentName().orElse("-")));
    return m;
  }

  /**
   * Each moment's parent as {@code checkpoint-list --tree} draws it: a root at column 0, a child's
   * name after "+- " four columns deeper than its parent's.
   */
  private static Map<String, String> treeParents(String tree) {
    Map<String, String> parents = new TreeMap<>();
    List<String> path = new ArrayList<>();
    for (String line : tree.lines().toList()) {
      String trimmed = line.strip();
      if (trimmed.matches("[| ]*")) {
        continue; // connector lines
      }
      int plus = line.indexOf("+- ");
      int depth = plus < 0 ? 0 : (plus + 3 - 1) / 4;
      String name = plus < 0 ? trimmed : line.substring(plus + 3).strip();
      while (path.size() > depth) {
        path.remove(path.size() - 1);
      }
      if (depth > path.size()) {
        throw new AssertionError("cannot read virsh's tree at line '" + line + "':\n" + tree);
      }
      parents.put(name, depth == 0 ? "-" : path.get(depth - 1));
      path.add(name);
    }
    return parents;
  }

  private static List<String> lines(String s) {
    return s.isEmpty() ? List.of() : s.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
  }

  private static TreeSet<String> sorted(List<Checkpoint> ms) {
    TreeSet<String> s = new TreeSet<>();
    ms.forEach(m -> s.add(m.name()));
    return s;
  }

  private static Map<String, String> fields(String info) {
    Map<String, String> f = new TreeMap<>();
    for (String l : info.lines().toList()) {
      int c = l.indexOf(':');
      if (c > 0) {
        f.put(l.substring(0, c).trim(), l.substring(c + 1).trim());
      }
    }
    return f;
  }

  @Test
  void createChainsOffTheCurrentAndDeleteReparents() throws Exception {
    compare(List.of(create("a"), create("b"), create("c"), delete("b", MomentTree.DeleteMode.SINGLE),
        create("d"), delete("d", MomentTree.DeleteMode.SINGLE), create("e")), "reparent");
  }

  @Test
  void deleteChildrenAndChildrenOnly() throws Exception {
    compare(List.of(create("a"), create("b"), create("c"), create("d"), delete("b", MomentTree.DeleteMode.CHILDREN_ONLY),
        create("e"), create("f"), delete("e", MomentTree.DeleteMode.CHILDREN), create("g")), "subtrees");
  }

  @Test
  void redefineRulesAndRefusals() throws Exception {
    compare(List.of(
        redefine("a", null), redefine("b", "a"), redefine("c", "a"), create("d"),
        redefine("a", "a"), // its own parent
        redefine("x", "nope"), // missing parent
        redefine("a", "d"), // cycle through a descendant
        create("b"), // duplicate
        redefine("b", null), // existing becomes a root, keeps children
        redefine("e", "c"), // parent not current: current unchanged
        delete("nope", MomentTree.DeleteMode.SINGLE)), "redefine");
  }

  static Stream<Arguments> seeds() {
    return Stream.of(Arguments.of(1L, 60), Arguments.of(2L, 60), Arguments.of(3L, 60), Arguments.of(4L, 60),
        Arguments.of(20261125L, 250));
  }

  @ParameterizedTest(name = "seed {0}, {1} operations")
  @MethodSource("seeds")
  void randomSequencesAgreeWithLibvirt(long seed, int count) throws Exception {
    Random r = new Random(seed);
    List<Op> ops = new ArrayList<>();
    MomentTree<Checkpoint> shadow = new MomentTree<>(); // to pick mostly meaningful names
    int next = 0;
    for (int i = 0; i < count; i++) {
      List<String> existing = shadow.topological().stream().map(Moment::name).toList();
      String any = existing.isEmpty() || r.nextInt(8) == 0 ? "n" + r.nextInt(next + 2) : existing.get(r.nextInt(existing.size()));
      String other = existing.isEmpty() || r.nextInt(6) == 0 ? null : existing.get(r.nextInt(existing.size()));
      int kind = r.nextInt(10);
      Op op;
      if (kind < 4) {
        op = create(r.nextInt(10) == 0 && !existing.isEmpty() ? any : "n" + next++);
      } else if (kind < 7) {
        op = redefine(r.nextInt(3) == 0 ? "n" + next++ : any, r.nextInt(12) == 0 ? "missing" + i : other);
      } else {
        op = delete(any, MomentTree.DeleteMode.values()[r.nextInt(3)]);
      }
      ops.add(op);
      try {
        op.apply().accept(shadow);
      } catch (MomentTreeException ignored) {
        // refusals are part of the sequence
      }
    }
    compare(ops, "seed " + seed);
  }
}
