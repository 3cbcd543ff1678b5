// Every kernel path registers itself on import; import this module once.
import "./user.js";
import "./fault.js";
import "./tlb.js";
import "./wp.js";
import "./fork.js";
import "./gup.js";
import "./gupfast.js";
import "./cowpte.js";
import "./uffd.js";
import "./spf.js";
import "./pervma.js";
import "./unmap.js";
import "./madvise.js";
import "./teaching.js";
