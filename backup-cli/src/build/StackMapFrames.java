import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Build step of backup-cli (run by the antrun plugin after the shade plugin; not part of the jar):
 * gives every class file of {@code tidemark.jar} older than Java 6 (major version below 50: picocli is
 * compiled for Java 5, Jing's datatype libraries for Java 1.2) stack map frames computed by ASM and
 * the class file version of Java 8. The bytecode is otherwise unchanged.
 *
 * <p>Why: the JVM's start-up caches leave such old classes out (Java 17's dynamic CDS archive: "Pre
 * JDK 6 class not supported by CDS"; Java 25's AOT cache: "Old class has been linked"), so every run
 * parsed, verified (with the slow type-inferencing verifier) and linked picocli's classes again; and
 * Temurin 25.0.3 crashes writing an AOT cache with linked classes ({@code -XX:+AOTClassLinking}, its
 * default) when old classes are among the loaded ones. With frames and a newer version they are
 * cached like the rest. Verified as usual by the JVM when loaded (the split verifier checks the
 * frames); the tests run the rewritten jar.
 *
 * <p>Usage: {@code java -cp ASM_JAR StackMapFrames.java JAR}; rewrites JAR in place (through a
 * temporary file renamed over it) and prints how many classes it rewrote.
 */
public final class StackMapFrames {
  /** Java 6: from this version on class files carry stack map frames (required from Java 7's 51). */
  private static final int FIRST_WITH_FRAMES = 50;

  private StackMapFrames() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: StackMapFrames JAR");
      System.exit(2);
    }
    Path jar = Path.of(args[0]);
    Path temp = Files.createTempFile(jar.toAbsolutePath().getParent(), ".frames", ".jar");
    int rewritten = 0;
    try (URLClassLoader classes = new URLClassLoader(new URL[] {jar.toUri().toURL()},
        StackMapFrames.class.getClassLoader());
        ZipFile in = new ZipFile(jar.toFile());
        OutputStream file = Files.newOutputStream(temp);
        ZipOutputStream out = new ZipOutputStream(file)) {
      for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements();) {
        ZipEntry entry = e.nextElement();
        byte[] bytes;
        try (InputStream s = in.getInputStream(entry)) {
          bytes = s.readAllBytes();
        }
        if (entry.getName().endsWith(".class") && majorVersion(bytes) < FIRST_WITH_FRAMES) {
          bytes = withFrames(bytes, classes);
          rewritten++;
        }
        ZipEntry copy = new ZipEntry(entry.getName());
        copy.setTime(entry.getTime());
        out.putNextEntry(copy);
        out.write(bytes);
        out.closeEntry();
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    if (Files.getFileStore(jar).supportsFileAttributeView("posix")) {
      Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(jar));
    }
    Files.move(temp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.out.println("StackMapFrames: " + rewritten + " class files of " + jar + " given stack map frames (Java 8)");
  }

  private static int majorVersion(byte[] classFile) {
    return (classFile[6] & 0xff) << 8 | classFile[7] & 0xff;
  }

  /** The class with its frames computed (the common super classes looked up in {@code classes}). */
  private static byte[] withFrames(byte[] classFile, ClassLoader classes) {
    ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
      @Override
      protected ClassLoader getClassLoader() {
        return classes;
      }
    };
    new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
        super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
      }
    }, ClassReader.SKIP_FRAMES);
    return writer.toByteArray();
  }
}
