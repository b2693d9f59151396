package stepup.arith_test

import data.stepup.arith

test_larger if {
	arith.larger(1, 3) == 3
	arith.larger(3, 1) == 3
	arith.larger(2, 2) == 2
}

test_smaller if {
	arith.smaller(1, 3) == 1
	arith.smaller(3, 1) == 1
	arith.smaller(2, 2) == 2
}

test_add if {
	arith.add(0, 0) == 0
	arith.add(5, 0) == 5
	arith.add(0, 7) == 7
	arith.add(5, 7) == 12
}
