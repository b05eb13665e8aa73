module github.com/tierwatch/tierwatch

go 1.26.8
