package org.tidemark.archive;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.tidemark.internal.JsonObject;
import org.tidemark.internal.JsonText;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * The archive's JSON metadata entries, written and read field by field (docs/archive-format.md
 * gives their grammar). Reading is strict: every field present with its type, no unknown field.
 */
final class ArchiveJson {
  /** {@code index.json} of format version 1: every chunk of the archive, in archive order. */
  record Index(List<ChunkRecord> chunks) {
    Index {
      chunks = List.copyOf(chunks);
    }
  }

  /**
   * {@code seal.json}: the last entry; its presence says the archive was finished. {@code
   * indexBytes}, the length of {@code index.bin}, is in version 2 seals only (-1 for version 1).
   */
  record Seal(String format, int formatVersion, int chunks, long indexBytes, String sha256) {}

  /** The kinds a manifest records (a skipped disk has no entry). */
  private static final DiskDecision.Kind[] RECORDED_KINDS = {DiskDecision.Kind.FULL, DiskDecision.Kind.INCREMENTAL};

  private ArchiveJson() {}

  static byte[] manifest(Manifest m) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("format", m.format());
    doc.put("formatVersion", m.formatVersion());
    doc.put("toolVersion", m.toolVersion());
    doc.put("domain", m.domain());
    doc.put("checkpoint", m.checkpoint());
    doc.put("created", m.created());
    if (m.formatVersion() > Manifest.WHOLE_SECONDS) {
      doc.put("createdNanos", m.createdNanos());
    }
    m.parent().ifPresent(p -> {
      Map<String, Object> parent = new LinkedHashMap<>();
      parent.put("checkpoint", p.checkpoint());
      parent.put("archive", p.archive());
      doc.put("parent", parent);
    });
    List<Object> disks = new ArrayList<>();
    for (DiskManifest d : m.disks()) {
      Map<String, Object> disk = new LinkedHashMap<>();
      disk.put("name", d.name());
      disk.put("kind", d.kind().code());
      disk.put("decision", d.decision().code());
      disk.put("reason", d.reason());
      disk.put("virtualSize", d.virtualSize());
      disk.put("granularity", d.granularity());
      List<Object> extents = new ArrayList<>(d.extents().size());
      for (ExtentRecord e : d.extents()) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("offset", e.offset());
        x.put("length", e.length());
        x.put("zero", e.zero());
        extents.add(x);
      }
      disk.put("extents", extents);
      disks.add(disk);
    }
    doc.put("disks", disks);
    return JsonText.write(doc);
  }

  static Manifest readManifest(byte[] json) throws JsonShapeException {
    JsonObject o = JsonText.parseObject(json);
    Optional<ParentRef> parent = Optional.empty();
    var p = o.optionalObject("parent");
    if (p.isPresent()) {
      parent = Optional.of(new ParentRef(p.get().string("checkpoint"), p.get().string("archive")));
      p.get().done();
    }
    List<DiskManifest> disks = new ArrayList<>();
    for (JsonObject d : o.objects("disks")) {
      List<ExtentRecord> extents = new ArrayList<>();
      for (JsonObject e : d.objects("extents")) {
        extents.add(checked(e, () -> new ExtentRecord(e.longValue("offset"), e.longValue("length"), e.bool("zero"))));
        e.done();
      }
      DiskDecision.Kind kind = code(d, "kind", RECORDED_KINDS, DiskDecision.Kind::code);
      DiskDecision decision = code(d, "decision", DiskDecision.values(), DiskDecision::code);
      DiskManifest disk = checked(d, () -> new DiskManifest(d.string("name"), kind, decision, d.string("reason"),
          d.longValue("virtualSize"), d.longValue("granularity"), extents));
      disks.add(disk);
      d.done();
    }
    int version = o.intValue("formatVersion");
    // versions 1 and 2 hold whole seconds; a newer version than this reader's is refused after this
    int nanos = version > Manifest.WHOLE_SECONDS && version <= Manifest.VERSION ? o.intValue("createdNanos") : 0;
    if (nanos < 0 || nanos > 999_999_999) {
      throw new JsonShapeException(o.where("createdNanos"), nanos + " is out of range (expected 0 to 999999999)");
    }
    Manifest m = new Manifest(o.string("format"), version, o.string("toolVersion"),
        o.string("domain"), o.string("checkpoint"), o.longValue("created"), nanos, parent, disks);
    o.done();
    return m;
  }

  /** The {@code index.json} of format version 1 (this writer writes {@link BinaryIndex}; tests build old archives). */
  static byte[] index(List<ChunkRecord> chunks) {
    List<Object> list = new ArrayList<>(chunks.size());
    for (ChunkRecord c : chunks) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("disk", c.disk());
      x.put("offset", c.offset());
      x.put("rawLength", c.rawLength());
      x.put("storedLength", c.storedLength());
      x.put("codec", c.codec().id());
      x.put("crc32c", c.crc32c());
      x.put("dataOffset", c.dataOffset());
      list.add(x);
    }
    return JsonText.write(Map.of("chunks", list));
  }

  static Index readIndex(byte[] json) throws JsonShapeException {
    JsonObject o = JsonText.parseObject(json);
    List<ChunkRecord> chunks = new ArrayList<>();
    for (JsonObject c : o.objects("chunks")) {
      chunks.add(new ChunkRecord(c.string("disk"), c.longValue("offset"), c.intValue("rawLength"),
          c.intValue("storedLength"), code(c, "codec", Codec.values(), Codec::id), c.intValue("crc32c"),
          c.longValue("dataOffset")));
      c.done();
    }
    o.done();
    return new Index(chunks);
  }

  static byte[] seal(Seal s) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("format", s.format());
    doc.put("formatVersion", s.formatVersion());
    doc.put("chunks", s.chunks());
    if (s.formatVersion() >= 2) {
      doc.put("indexBytes", s.indexBytes());
    }
    doc.put("sha256", s.sha256());
    return JsonText.write(doc);
  }

  /**
   * Reads the seal in two steps, so that an archive of a newer format is named as such even when its
   * seal has fields this version does not know: the format and version first, then the whole shape.
   */
  static Seal readSeal(byte[] json, SealVersionCheck check) throws JsonShapeException, ArchiveException {
    JsonObject o = JsonText.parseObject(json);
    int version = o.intValue("formatVersion");
    check.formatAndVersion(o.string("format"), version);
    Seal s = new Seal(o.string("format"), version, o.intValue("chunks"), version >= 2 ? o.longValue("indexBytes") : -1,
        o.string("sha256"));
    o.done();
    return s;
  }

  /** Checks the format name and version of a seal before the rest of it is read. */
  interface SealVersionCheck {
    void formatAndVersion(String format, int version) throws ArchiveException;
  }

  /**
   * The constant whose code is the string field {@code name} of {@code o}; an unknown code is refused at
   * the field's path, with the codes expected.
   */
  private static <E extends Enum<E>> E code(JsonObject o, String name, E[] values, Function<E, String> code)
      throws JsonShapeException {
    String text = o.string(name);
    for (E e : values) {
      if (code.apply(e).equals(text)) {
        return e;
      }
    }
    throw new JsonShapeException(o.where(name), "unknown " + name + " '" + text + "' (expected one of "
        + Arrays.stream(values).map(code).toList() + ")");
  }

  private interface Read<T> {
    T get() throws JsonShapeException;
  }

  /** A record whose constructor refuses the values read: the refusal, at the object's path. */
  private static <T> T checked(JsonObject o, Read<T> read) throws JsonShapeException {
    try {
      return read.get();
    } catch (IllegalArgumentException e) {
      throw new JsonShapeException(o.path(), e.getMessage());
    }
  }
}
