module drawbridge

go 1.26.8
