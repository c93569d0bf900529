package org.tidemark.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The moments of one domain (its checkpoints, or its snapshots) as a tree, with libvirt's
 * semantics (libvirt's moment object list).
 *
 * <ul>
 *   <li>{@link #create}: a new moment whose parent is the current one; it becomes current.
 *   <li>{@link #redefine}: puts a moment back as given (libvirt's REDEFINE). A new one is added;
 *       an existing one is replaced in place and keeps its children. Either becomes current when
 *       its parent is the current moment or there is no current moment. The parent must exist,
 *       may not be the moment itself and may not be one of its descendants.
 *   <li>{@link #delete}: removes one moment and gives its children to its parent ({@link
 *       DeleteMode#SINGLE}), or its whole subtree ({@link DeleteMode#CHILDREN}), or only its
 *       descendants ({@link DeleteMode#CHILDREN_ONLY}). If the current moment is removed, the
 *       deleted moment's parent (or, for CHILDREN_ONLY, the moment itself) becomes current.
 * </ul>
 *
 * <p>Children, roots and leaves are listed in the order the moments were added. Refusals are
 * {@link MomentTreeException}s with libvirt's wording, and leave the tree unchanged.
 *
 * <p>The one mutable type of the model: not thread-safe; confine an instance to one thread or
 * guard it.
 *
 * @param <T> the moment type ({@link Checkpoint} or {@link Snapshot})
 */
public final class MomentTree<T extends Moment> {
  /** What {@link #delete} removes. */
  public enum DeleteMode {
    /** The moment alone; its children move to its parent. */
    SINGLE,
    /** The moment and all its descendants. */
    CHILDREN,
    /** All descendants of the moment, but not the moment. */
    CHILDREN_ONLY
  }

  private final Map<String, T> moments = new LinkedHashMap<>();
  private String current;

  /** An empty tree. */
  public MomentTree() {}

  /** The number of moments. */
  public int size() {
    return moments.size();
  }

  /** The moment of that name, if any. */
  public Optional<T> get(String name) {
    return Optional.ofNullable(moments.get(name));
  }

  /**
   * The moment of that name.
   *
   * @throws MomentTreeException.NotFound when there is none
   */
  public T require(String name) {
    T m = moments.get(name);
    if (m == null) {
      throw new MomentTreeException.NotFound(name);
    }
    return m;
  }

  /** The current moment, if any. */
  public Optional<T> current() {
    return current == null ? Optional.empty() : Optional.of(moments.get(current));
  }

  /**
   * Makes the named moment current, or clears the current moment with {@code null}.
   *
   * @throws MomentTreeException.NotFound when there is no such moment
   */
  public void setCurrent(String name) {
    if (name != null) {
      require(name);
    }
    current = name;
  }

  /**
   * Adds a new moment as a child of the current one (or as a root when there is none) and makes it
   * current, like {@code virsh checkpoint-create}. Any parent the moment names is replaced.
   *
   * @return the moment as stored, with its parent set
   * @throws MomentTreeException.Duplicate when the name is taken
   */
  @SuppressWarnings("unchecked")
  public T create(T moment) {
    Objects.requireNonNull(moment, "moment");
    if (moments.containsKey(moment.name())) {
      throw new MomentTreeException.Duplicate(moment.name());
    }
    T stored = (T) moment.withParentName(Optional.ofNullable(current));
    moments.put(stored.name(), stored);
    current = stored.name();
    return stored;
  }

  /**
   * Adds a moment as given, or replaces the moment of the same name keeping its children (libvirt's
   * REDEFINE). It becomes current when its parent is current or there is no current moment.
   *
   * @throws MomentTreeException.MissingParent when the parent is not in the tree
   * @throws MomentTreeException.Cycle when the parent is the moment itself or a descendant of it
   */
  public void redefine(T moment) {
    Objects.requireNonNull(moment, "moment");
    String name = moment.name();
    Optional<String> parent = moment.parentName();
    if (parent.isPresent()) {
      String p = parent.get();
      if (p.equals(name)) {
        throw new MomentTreeException.Cycle("cannot set moment " + name + " as its own parent");
      }
      if (!moments.containsKey(p)) {
        throw new MomentTreeException.MissingParent(p, name);
      }
      if (moments.containsKey(name)) {
        childOnPathTo(name, p).ifPresent(c -> {
          throw new MomentTreeException.Cycle("parent " + c + " would create cycle to " + name);
        });
      }
    }
    moments.put(name, moment);
    if (current == null || parent.isPresent() && parent.get().equals(current)) {
      current = name;
    }
  }

  /**
   * Adds a new moment as given, without changing the current moment.
   *
   * @throws MomentTreeException.Duplicate when the name is taken
   * @throws MomentTreeException.MissingParent when the parent is not in the tree
   * @throws MomentTreeException.Cycle when the moment names itself as parent
   */
  public void add(T moment) {
    if (moments.containsKey(moment.name())) {
      throw new MomentTreeException.Duplicate(moment.name());
    }
    String saved = current;
    redefine(moment);
    current = saved;
  }

  /**
   * Removes moments as {@code mode} says.
   *
   * @return the moments removed, parents before children
   * @throws MomentTreeException.NotFound when there is no such moment
   */
  @SuppressWarnings("unchecked")
  public List<T> delete(String name, DeleteMode mode) {
    T target = require(name);
    List<T> removed = new ArrayList<>();
    switch (mode) {
      case SINGLE -> {
        for (T child : children(name)) {
          moments.put(child.name(), (T) child.withParentName(target.parentName()));
        }
        moments.remove(name);
        removed.add(target);
        if (name.equals(current)) {
          current = target.parentName().orElse(null);
        }
      }
      case CHILDREN, CHILDREN_ONLY -> {
        List<T> doomed = descendants(name);
        if (mode == DeleteMode.CHILDREN) {
          doomed.add(0, target);
        }
        boolean currentGone = false;
        for (T m : doomed) {
          moments.remove(m.name());
          currentGone |= m.name().equals(current);
          removed.add(m);
        }
        if (currentGone) {
          current = mode == DeleteMode.CHILDREN ? target.parentName().orElse(null) : name;
        }
      }
    }
    return removed;
  }

  /** The parent of the named moment, if it has one. */
  public Optional<T> parent(String name) {
    return require(name).parentName().map(moments::get);
  }

  /** The direct children of the named moment. */
  public List<T> children(String name) {
    require(name);
    return moments.values().stream().filter(m -> m.parentName().filter(name::equals).isPresent()).toList();
  }

  /** All descendants of the named moment, parents before children. */
  public List<T> descendants(String name) {
    require(name);
    List<T> out = new ArrayList<>();
    Deque<String> queue = new ArrayDeque<>(List.of(name));
    while (!queue.isEmpty()) {
      for (T child : children(queue.poll())) {
        out.add(child);
        queue.add(child.name());
      }
    }
    return out;
  }

  /** The moments without a parent. */
  public List<T> roots() {
    return moments.values().stream().filter(m -> m.parentName().isEmpty()).toList();
  }

  /** The moments without children. */
  public List<T> leaves() {
    return moments.values().stream().filter(m -> children(m.name()).isEmpty()).toList();
  }

  /** Every moment, each after its parent (roots first, then breadth first). */
  public List<T> topological() {
    List<T> out = new ArrayList<>();
    for (T root : roots()) {
      out.add(root);
      out.addAll(descendants(root.name()));
    }
    return out;
  }

  /**
   * Walking up from {@code node}, the moment whose parent is {@code root}, if {@code root} is an
   * ancestor of {@code node} (libvirt names that moment in its cycle error).
   */
  private Optional<String> childOnPathTo(String root, String node) {
    String n = node;
    int steps = 0;
    while (n != null && steps++ <= moments.size()) {
      T m = moments.get(n);
      String parent = m == null ? null : m.parentName().orElse(null);
      if (root.equals(parent)) {
        return Optional.of(n);
      }
      n = parent;
    }
    return Optional.empty();
  }
}
