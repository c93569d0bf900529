/** A backup vendor's program: needs the engine alone (which brings checkpoint-xml and the model). */
module org.tidemark.vendor {
  requires org.tidemark.engine;
}
