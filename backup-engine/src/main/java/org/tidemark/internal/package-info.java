/** Helpers shared by Tidemark's packages; not an API: may change in any release. */
package org.tidemark.internal;
