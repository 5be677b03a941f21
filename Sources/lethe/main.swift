import LetheCLI
import Glibc

exit(LetheCLI.main())
